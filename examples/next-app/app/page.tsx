import Link from 'next/link';
import { PRODUCTS } from '../lib/products';

export default function Home() {
  return (
    <main>
      <h1>Shop</h1>
      <ul>
        {PRODUCTS.map((product) => (
          <li key={product.id}>
            <Link href={`/product/${product.id}`}>{product.name}</Link>
          </li>
        ))}
      </ul>
    </main>
  );
}
