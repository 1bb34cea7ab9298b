import { PRODUCTS, productById } from '../../lib/products';
import { CheckoutFlow } from './checkout-flow';

export default async function CheckoutPage({
  searchParams,
}: {
  searchParams: Promise<{ product?: string }>;
}) {
  const product = productById((await searchParams).product ?? '') ?? PRODUCTS[0]!;
  return (
    <main>
      <h1>Checkout</h1>
      <CheckoutFlow product={product} />
    </main>
  );
}
