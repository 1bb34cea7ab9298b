export interface Product {
  readonly id: string;
  readonly name: string;
  readonly category: string;
  readonly priceCents: number;
}

export const PRODUCTS: readonly Product[] = [
  { id: 'p-1', name: 'Field notebook', category: 'books', priceCents: 1299 },
  { id: 'p-2', name: 'Rain jacket', category: 'apparel', priceCents: 8900 },
  { id: 'p-3', name: 'Desk lamp', category: 'home', priceCents: 3450 },
];

export function productById(id: string): Product | undefined {
  return PRODUCTS.find((product) => product.id === id);
}
