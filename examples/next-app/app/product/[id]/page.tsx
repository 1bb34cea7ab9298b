import Link from 'next/link';
import { notFound } from 'next/navigation';
import { productById } from '../../../lib/products';
import { SizeGuide } from './size-guide';

export default async function ProductPage({ params }: { params: Promise<{ id: string }> }) {
  const product = productById((await params).id);
  if (!product) notFound();
  return (
    <main>
      <h1>{product.name}</h1>
      <p>{(product.priceCents / 100).toFixed(2)} USD</p>
      <SizeGuide entryPage="/product/[id]" />
      <Link href={`/checkout?product=${product.id}`}>Buy</Link>
    </main>
  );
}
