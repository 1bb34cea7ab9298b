/** @jest-environment jsdom */
// React Testing Library drives the real hook; jsdom lacks navigator.sendBeacon, so a recorder stands in for it and
// each recorded body must pass the Express router's validator.
import { StrictMode, useEffect, useLayoutEffect } from 'react';
import { act, fireEvent, render, waitFor } from '@testing-library/react';
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

function ExportButton() {
  const { trackFeature } = useEngagementTracking({
    userTier: 'pro',
    entryPage: '/reports',
    isNewUser: false,
    flushIntervalMs: 0,
  });
  return <button onClick={() => trackFeature('export')}>Export</button>;
}

function Chart(props: { onReady: () => void }) {
  useEffect(() => props.onReady(), []);
  return <canvas />;
}

/** Tracks from its layout effect and from a child's mount effect, both of which run before its own effect. */
function ChartPage() {
  const { trackFeature, trackMilestone } = useEngagementTracking({
    userTier: 'pro',
    entryPage: '/charts',
    isNewUser: false,
    flushIntervalMs: 0,
  });
  useLayoutEffect(() => trackFeature('chart_layout'), [trackFeature]);
  return <Chart onReady={() => trackMilestone('first_chart_rendered')} />;
}

describe('useEngagementTracking', () => {
  let batches: Promise<EngagementBatch>[];
  const all = async () => (await Promise.all(batches)).flatMap((b) => b.events);
  const sessionEnds = async () => (await all()).filter((e) => e.kind === 'session_end');
  const untilSessionEnds = async (count: number) =>
    waitFor(async () => expect(await sessionEnds()).toHaveLength(count));

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
    await untilSessionEnds(1);
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
    await untilSessionEnds(2);
    const sent = await Promise.all(batches);
    expect(sent.map((b) => [b.session.userTier, b.events.map((e) => e.kind)])).toEqual([
      ['free', ['feature', 'session_end']],
      ['pro', ['feature', 'session_end']],
    ]);
  });

  it('makes one session for a page whose 25 buttons use the hook', async () => {
    const view = render(
      <div>
        {Array.from({ length: 25 }, (_, i) => (
          <ExportButton key={i} />
        ))}
      </div>,
    );
    for (const button of view.getAllByText('Export').slice(0, 3)) fireEvent.click(button);
    window.dispatchEvent(new Event('pagehide')); // the user leaves: one visit
    view.unmount();
    await untilSessionEnds(1);
    const sent = await Promise.all(batches);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.events.map((e) => e.kind)).toEqual(['feature', 'feature', 'feature', 'session_end']);
  });

  it("keeps what a layout effect and a child's mount effect track before the hook's effect", async () => {
    const view = render(<ChartPage />);
    view.unmount();
    await untilSessionEnds(1);
    expect((await all()).map((e) => (e.kind === 'session_end' ? e.kind : e.name))).toEqual([
      'chart_layout',
      'first_chart_rendered',
      'session_end',
    ]);
  });

  it('keeps at most 50 calls made before its effect, dropping the rest', async () => {
    function Grid() {
      const { trackFeature } = useEngagementTracking({
        userTier: 'pro',
        entryPage: '/grid',
        isNewUser: false,
        flushIntervalMs: 0,
      });
      useLayoutEffect(() => {
        for (let i = 0; i < 60; i++) trackFeature(`tile_${i}`);
      }, [trackFeature]);
      return null;
    }
    render(<Grid />).unmount();
    await untilSessionEnds(1);
    const names = (await all()).flatMap((e) => (e.kind === 'feature' ? [e.name] : []));
    expect(names).toEqual(Array.from({ length: 50 }, (_, i) => `tile_${i}`));
  });

  it('records one session under StrictMode, whose extra unmount and remount do not end it', async () => {
    const view = render(
      <StrictMode>
        <DashboardPage userTier="pro" />
      </StrictMode>,
    );
    fireEvent.click(view.getByText('Export Data'));
    view.unmount();
    await untilSessionEnds(1);
    expect((await all()).map((e) => e.kind)).toEqual(['feature', 'session_end']);
  });

  it('does nothing for a call made after the component unmounted', async () => {
    let late: ((name: string) => void) | undefined;
    function Keeper() {
      const { trackFeature } = useEngagementTracking({
        userTier: 'pro',
        entryPage: '/late',
        isNewUser: false,
        flushIntervalMs: 0,
      });
      late = trackFeature; // stable: the same function after unmount
      return null;
    }
    render(<Keeper />).unmount();
    await untilSessionEnds(1);
    late?.('after_unmount');
    // A new mount with the same config makes a new session that must not carry the late call.
    render(<Keeper />).unmount();
    await untilSessionEnds(2);
    expect((await all()).map((e) => e.kind)).toEqual(['session_end', 'session_end']);
  });
});
