/**
 * src/metrics/singleton.ts: `businessMetrics` before init, bound, and after shutdown. The first recording call
 * before any init says so once (a Node warning with its own code, since no diag logger exists yet), and later
 * calls go straight to the no-op; calls after shutdown are silent; its methods work detached from it.
 */
type Singleton = typeof import('../../src/metrics/singleton');

function freshSingleton(): Singleton {
  let module!: Singleton;
  jest.isolateModules(() => {
    module = require('../../src/metrics/singleton') as Singleton;
  });
  return module;
}

describe('businessMetrics singleton', () => {
  let warnings: jest.SpyInstance;
  beforeEach(() => {
    warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warnings.mockRestore());

  it('warns once, on the first recording call before init, naming the method and what to do', async () => {
    const { businessMetrics, BEFORE_INIT_WARNING_CODE } = freshSingleton();
    expect(await businessMetrics.getMetrics()).toBe(''); // reading is not recording: no warning
    expect(warnings).not.toHaveBeenCalled();
    businessMetrics.recordRevenue(2599, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'eu_west',
    });
    businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
    businessMetrics.trackActiveUser('user-1', { userTier: 'pro' });
    expect(warnings).toHaveBeenCalledTimes(1);
    expect(warnings).toHaveBeenCalledWith(
      'otel-business-metrics: businessMetrics.recordRevenue() was called before initBusinessMetrics(); calls before init record nothing. Call initBusinessMetrics() at startup, before code that records (said once per process)',
      { code: BEFORE_INIT_WARNING_CODE },
    );
  });

  it.each([
    'recordFunnelStep',
    'recordConversion',
    'recordRevenue',
    'recordRefund',
    'recordFeatureUsage',
    'recordSessionEnd',
    'updateActiveUsers',
    'trackActiveUser',
  ] as const)('%s before init is the call the warning names', (method) => {
    const { businessMetrics } = freshSingleton();
    (businessMetrics[method] as (...args: unknown[]) => void)('x', {});
    expect(warnings).toHaveBeenCalledTimes(1);
    expect(String(warnings.mock.calls[0][0])).toContain(`businessMetrics.${method}() was called before`);
  });

  it('forwards once bound, and is silent after shutdown (unbinding is deliberate)', () => {
    const { businessMetrics, bindBusinessMetrics } = freshSingleton();
    const calls: string[] = [];
    const recorder = {
      recordFunnelStep: (step: string) => calls.push(step),
    } as unknown as Parameters<typeof bindBusinessMetrics>[0];
    bindBusinessMetrics(recorder);
    businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
    expect(calls).toEqual(['cart_view']);
    bindBusinessMetrics(undefined);
    businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
    expect(calls).toEqual(['cart_view']);
    expect(warnings).not.toHaveBeenCalled();
  });

  it('works detached from the object, as seed code passes it around (an event handler, a callback)', async () => {
    const { businessMetrics, bindBusinessMetrics } = freshSingleton();
    const { recordRevenue, recordFunnelStep, getMetrics } = businessMetrics;
    // Before init: the no-op, with its one warning, and never a TypeError.
    expect(() =>
      recordRevenue(1999, { productCategory: 'books', paymentMethod: 'card', region: 'eu' }),
    ).not.toThrow();
    expect(warnings).toHaveBeenCalledTimes(1);
    const calls: string[] = [];
    bindBusinessMetrics({
      recordFunnelStep: (step: string) => calls.push(step),
      getMetrics: () => Promise.resolve('exposition'),
    } as unknown as Parameters<typeof bindBusinessMetrics>[0]);
    recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
    expect(calls).toEqual(['cart_view']);
    expect(await getMetrics()).toBe('exposition');
  });
});
