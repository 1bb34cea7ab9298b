/**
 * alertmanager/alertmanager.yml, checked by the real amtool and a real Alertmanager (Debian
 * `prometheus-alertmanager`): the config is valid, every alert the rules define routes to its team's receiver,
 * and the inhibitions hold (the no-traffic alert silences the ratio alerts it explains).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from '../support/binaries';
import { freePort } from '../support/prometheus-server';
import { BACKEND, allRules, ruleFiles } from './backend-files';
import { waitUntil } from '../support/wait';

const CONFIG = join(BACKEND, 'alertmanager', 'alertmanager.yml');
const amtool = requireBinary('amtool', 'apt-get install prometheus-alertmanager');
const alertmanagerBinary = requireBinary(
  'prometheus-alertmanager',
  'apt-get install prometheus-alertmanager',
);
const itWithAmtool = amtool ? it : it.skip;
const itWithAlertmanager = alertmanagerBinary ? it : it.skip;

function amtoolOutput(args: string[]): string {
  return execFileSync(amtool!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

describe('Alertmanager config', () => {
  itWithAmtool('passes amtool check-config', () => {
    const output = amtoolOutput(['check-config', CONFIG]);
    expect(output).toMatch(/SUCCESS/);
    expect(output).toMatch(/5 inhibit rules/);
  });

  const alerts = ruleFiles()
    .flatMap(allRules)
    .filter((rule) => rule.alert);
  itWithAmtool.each(alerts.map((rule) => [rule.alert!, rule.labels!] as const))(
    '%s routes to its team receiver',
    (alertname, labels) => {
      const matchers = [
        `alertname=${alertname}`,
        ...Object.entries(labels).map(([key, value]) => `${key}=${value}`),
      ];
      const receiver = amtoolOutput(['config', 'routes', 'test', `--config.file=${CONFIG}`, ...matchers]);
      const expected =
        labels.team === 'product' && labels.severity === 'critical' ? 'product-critical' : labels.team;
      expect(receiver).toBe(expected);
    },
  );

  itWithAmtool('sends alerts without a known team to the default receiver', () => {
    expect(amtoolOutput(['config', 'routes', 'test', `--config.file=${CONFIG}`, 'team=unknown'])).toBe(
      'default',
    );
  });

  describe('a running Alertmanager with this config', () => {
    let child: ChildProcess | undefined;
    let url = '';
    let workDir = '';

    beforeAll(async () => {
      if (!alertmanagerBinary) return;
      workDir = mkdtempSync(join(tmpdir(), 'obm-am-'));
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      child = spawn(
        alertmanagerBinary,
        [
          `--config.file=${CONFIG}`,
          `--storage.path=${workDir}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--cluster.listen-address=',
        ],
        { stdio: 'ignore' },
      );
      await waitUntil(
        'alertmanager to be ready',
        async () => {
          try {
            return (await fetch(`${url}/-/ready`)).ok;
          } catch {
            return 'not listening yet';
          }
        },
        { timeoutMillis: 20_000, intervalMillis: 200 },
      );
    });

    afterAll(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    const ruleLabels = (name: string) => alerts.find((rule) => rule.alert === name)!.labels!;
    /** Post alerts by name, or as [name, extra labels] (a currency, say). */
    const post = async (
      names: Array<string | [string, Record<string, string>]>,
      { resolved = false } = {},
    ) => {
      const now = new Date();
      const body = names
        .map((entry) => {
          const [alertname, extra] = typeof entry === 'string' ? [entry, {}] : entry;
          return { alertname, extra };
        })
        .map(({ alertname, extra }) => ({
          labels: { alertname, ...ruleLabels(alertname), ...extra },
          annotations: { summary: alertname },
          startsAt: new Date(now.getTime() - 60_000).toISOString(),
          endsAt: new Date(now.getTime() + (resolved ? -1000 : 10 * 60_000)).toISOString(),
        }));
      const response = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
    };
    const states = async (): Promise<
      Record<string, { state: string; inhibitedBy: string[]; fingerprint: string }>
    > => {
      const response = await fetch(`${url}/api/v2/alerts`);
      const list = (await response.json()) as Array<{
        labels: { alertname: string };
        fingerprint: string;
        status: { state: string; inhibitedBy: string[] };
      }>;
      return Object.fromEntries(
        list.map((alert) => [alert.labels.alertname, { ...alert.status, fingerprint: alert.fingerprint }]),
      );
    };
    const eventually = (check: () => Promise<void>) =>
      waitUntil(
        'alertmanager to show the expected alerts',
        async () => {
          try {
            await check();
            return true;
          } catch (error) {
            return (error as Error).message;
          }
        },
        { timeoutMillis: 10_000, intervalMillis: 200 },
      );

    itWithAlertmanager('keeps ratio alerts active on their own', async () => {
      await post([
        'HighCartAbandonment',
        ['RevenueBelowBaseline', { currency: 'EUR' }],
        'NewUserEngagementDrop',
        // Another currency than RevenueBelowBaseline's: that one would explain it (next case).
        ['RevenueAtRisk', { currency: 'JPY' }],
        'CheckoutExperiencePoor',
      ]);
      await eventually(async () => {
        const now = await states();
        expect(now.HighCartAbandonment?.state).toBe('active');
        expect(now.RevenueBelowBaseline?.state).toBe('active');
        expect(now.NewUserEngagementDrop?.state).toBe('active');
        expect(now.RevenueAtRisk?.state).toBe('active');
        expect(now.CheckoutExperiencePoor?.state).toBe('active');
      });
    });

    itWithAlertmanager(
      'lets RevenueBelowBaseline silence RevenueAtRisk of the same currency only',
      async () => {
        await post([
          ['RevenueBelowBaseline', { currency: 'KWD' }],
          ['RevenueAtRisk', { currency: 'KWD' }],
          ['RevenueAtRisk', { currency: 'CHF' }],
        ]);
        await eventually(async () => {
          const response = await fetch(
            `${url}/api/v2/alerts?filter=${encodeURIComponent('alertname="RevenueAtRisk"')}`,
          );
          const list = (await response.json()) as Array<{
            labels: Record<string, string>;
            status: { state: string };
          }>;
          const byCurrency = Object.fromEntries(
            list.map((alert) => [alert.labels.currency, alert.status.state]),
          );
          expect(byCurrency).toMatchObject({ KWD: 'suppressed', CHF: 'active', JPY: 'active' });
        });
      },
    );

    itWithAlertmanager(
      'lets the critical conversion floor silence the relative abandonment alert',
      async () => {
        await post(['ConversionRateDrop']);
        await eventually(async () => {
          const now = await states();
          expect(now.ConversionRateDrop?.state).toBe('active');
          expect(now.HighCartAbandonment.state).toBe('suppressed');
          expect(now.RevenueBelowBaseline.state).toBe('active');
        });
      },
    );

    itWithAlertmanager(
      'silences the ratio alerts NoCartTraffic and NoRevenue explain, and lets the rest through',
      async () => {
        await post(['NoCartTraffic', 'NoRevenue']);
        await eventually(async () => {
          const now = await states();
          expect(now.ConversionRateDrop.state).toBe('suppressed');
          expect(now.ConversionRateDrop.inhibitedBy.length).toBeGreaterThan(0);
          expect(now.HighCartAbandonment.state).toBe('suppressed');
          expect(now.RevenueBelowBaseline.state).toBe('suppressed');
          // Revenue at risk against last week is what "no revenue at all" already says.
          expect(now.RevenueAtRisk.state).toBe('suppressed');
          // A slow checkout is not explained by missing traffic.
          expect(now.CheckoutExperiencePoor.state).toBe('active');
          expect(now.NoCartTraffic.state).toBe('active');
          expect(now.NoRevenue.state).toBe('active');
          // Week-over-week engagement is unrelated to cart traffic: still active.
          expect(now.NewUserEngagementDrop.state).toBe('active');
        });
      },
    );

    itWithAlertmanager.each(['BusinessMetricsTargetDown', 'BusinessMetricsPushStopped'])(
      'silences every missing-data alert while %s fires (scrape target down, pushes stopped)',
      async (pipelineAlert) => {
        // Only this pipeline alert may be the source: end every alert the earlier cases posted.
        await post(Object.keys(await states()), { resolved: true });
        const downstream = ['NoCartTraffic', 'NoRevenue', 'NewUserEngagementDrop'];
        await post([pipelineAlert, ...downstream, 'ConversionRateDrop', 'RevenueAtRisk']);
        await eventually(async () => {
          const now = await states();
          for (const name of downstream) {
            expect({ name, state: now[name].state, by: now[name].inhibitedBy }).toEqual({
              name,
              state: 'suppressed',
              by: [now[pipelineAlert].fingerprint],
            });
          }
          expect(now.ConversionRateDrop.state).toBe('suppressed');
          // Explained by the pipeline alert and by NoRevenue alike (Alertmanager names one of them).
          expect(now.RevenueAtRisk.state).toBe('suppressed');
          expect(now[pipelineAlert].state).toBe('active');
        });
      },
    );
  });
});
