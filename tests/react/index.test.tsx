/** @jest-environment jsdom */
// React Testing Library drives the real hook; jsdom lacks navigator.sendBeacon, so a recorder stands in for it and
// each recorded body must pass the Express router's validator.
import { act, fireEvent, render } from '@testing-library/react';
import type { EngagementBatch } from '../../src/browser';
import { validateEngagementBatch } from '../../src/integrations/http/validate';
import { useEngagementTracking } from '../../src/react';

function DashboardPage(props: { userTier: string }) {
  const { trackFeature, trackMilestone } = useEngagementTracking({
    userTier: props.userTier,
    entryPage: '/dashboard',
    isNewUser: false,
    endpoint: '/api/engagement',
    flushIntervalMs: 0,
  });
  return (
    <div>
      <button onClick={() => trackFeature('dashboard_export')}>Export Data</button>
      <button onClick={() => trackMilestone('first_chart_created')}>Create chart</button>
    </div>
  );
}

describe('useEngagementTracking', () => {
  let batches: Promise<EngagementBatch>[];

  beforeEach(() => {
    batches = [];
    Object.defineProperty(window.navigator, 'sendBeacon', {
      configurable: true,
      value: (_url: string, data: Blob) => {
        batches.push(
          new Promise((resolve, reject) => {
            const reader = new FileReader();
            reader.onload = () => {
              const result = validateEngagementBatch(JSON.parse(String(reader.result)));
              if (result.ok) resolve(result.batch);
              else reject(new Error(result.error));
            };
            reader.readAsText(data);
          }),
        );
        return true;
      },
    });
  });

  it('tracks features and milestones and ends the session on unmount', async () => {
    const view = render(<DashboardPage userTier="pro" />);
    fireEvent.click(view.getByText('Export Data'));
    fireEvent.click(view.getByText('Create chart'));
    expect(batches).toHaveLength(0);
    view.unmount();
    const sent = await Promise.all(batches);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.session).toEqual({ userTier: 'pro', entryPage: '/dashboard', isNewUser: false });
    expect(sent[0]?.events.map((e) => e.kind)).toEqual(['feature', 'milestone', 'session_end']);
    expect(sent[0]?.events.slice(0, 2)).toEqual([
      { kind: 'feature', name: 'dashboard_export' },
      { kind: 'milestone', name: 'first_chart_created' },
    ]);
  });

  it('starts a new session when the user tier changes, ending the old one', async () => {
    const view = render(<DashboardPage userTier="free" />);
    fireEvent.click(view.getByText('Export Data'));
    act(() => view.rerender(<DashboardPage userTier="pro" />));
    fireEvent.click(view.getByText('Export Data'));
    view.unmount();
    const sent = await Promise.all(batches);
    expect(sent.map((b) => [b.session.userTier, b.events.map((e) => e.kind)])).toEqual([
      ['free', ['feature', 'session_end']],
      ['pro', ['feature', 'session_end']],
    ]);
  });
});
