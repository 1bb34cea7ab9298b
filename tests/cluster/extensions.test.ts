/**
 * src/cluster/extensions.ts, the registry of the extra state one cluster-mode init ships with its snapshots:
 * extensions are kept by name in the order they were added, adding a name again replaces the earlier one in its
 * place, the function `add` returns removes only the extension it added (a stale remover leaves a replacement
 * alone), and two registries never see each other's extensions (no process-wide state).
 */
import { ClusterExtensions, type ClusterExtension } from '../../src/cluster/extensions';

const named = (name: string): ClusterExtension => ({ name, collect: () => ({ from: name }) });

describe('ClusterExtensions', () => {
  it('starts empty and iterates the added extensions in the order they were added', () => {
    const registry = new ClusterExtensions();
    expect([...registry]).toEqual([]);
    const a = named('a');
    const b = named('b');
    registry.add(a);
    registry.add(b);
    expect([...registry]).toEqual([a, b]);
    expect([...registry].map((extension) => extension.collect?.())).toEqual([{ from: 'a' }, { from: 'b' }]);
  });

  it('replaces an extension of the same name, keeping its place', () => {
    const registry = new ClusterExtensions();
    const first = named('active_users');
    const other = named('other');
    const second = named('active_users');
    registry.add(first);
    registry.add(other);
    registry.add(second);
    expect([...registry]).toEqual([second, other]);
    expect([...registry][0]).toBe(second);
  });

  it('removes with the returned function only the extension it added, once', () => {
    const registry = new ClusterExtensions();
    const first = named('x');
    const removeFirst = registry.add(first);
    const second = named('x');
    const removeSecond = registry.add(second);
    removeFirst(); // stale: `second` replaced `first`
    expect([...registry]).toEqual([second]);
    removeSecond();
    expect([...registry]).toEqual([]);
    registry.add(first);
    removeSecond(); // again, and for an extension no longer there
    expect([...registry]).toEqual([first]);
    removeFirst();
    expect([...registry]).toEqual([]);
  });

  it('keeps each registry to itself', () => {
    const one = new ClusterExtensions();
    const two = new ClusterExtensions();
    const extension = named('shared-name');
    one.add(extension);
    expect([...one]).toEqual([extension]);
    expect([...two]).toEqual([]);
    two.add(named('shared-name'));
    expect([...one][0]).toBe(extension);
  });
});
