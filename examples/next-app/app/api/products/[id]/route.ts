import { withHttpMetrics } from 'otel-business-metrics/fetch';
import { productById } from '../../../../lib/products';

export const GET = withHttpMetrics(
  '/api/products/[id]',
  async (_request: Request, { params }: { params: Promise<{ id: string }> }) => {
    const product = productById((await params).id);
    return product ? Response.json(product) : Response.json({ error: 'no such product' }, { status: 404 });
  },
);
