// /etc/hosts edits shared by the hostname step and the role plan: every name on one line only.
import { describe, expect, it } from 'vitest';
import { hostsMaps, setHostsEntry } from '../../../../firstboot/apply/hosts.ts';

const DEBIAN =
  '127.0.0.1\tlocalhost\n127.0.1.1\told-name\n\n# The following lines are desirable for IPv6 capable hosts\n::1\tlocalhost ip6-localhost ip6-loopback\n';

describe('setHostsEntry', () => {
  it("replaces the address line in Debian's place (after localhost), comments and other lines kept", () => {
    expect(setHostsEntry(DEBIAN, '127.0.1.1', ['node-1.lab', 'node-1'])).toBe(
      '127.0.0.1\tlocalhost\n127.0.1.1\tnode-1.lab\tnode-1\n# The following lines are desirable for IPv6 capable hosts\n::1\tlocalhost ip6-localhost ip6-loopback\n',
    );
  });

  it('moves a name off every other line, so it resolves to one address only', () => {
    const before = setHostsEntry(DEBIAN, '127.0.1.1', ['cp-1']);
    const after = setHostsEntry(before, '10.0.2.15', ['cp-1']);
    expect(after).toBe(
      '127.0.0.1\tlocalhost\n10.0.2.15\tcp-1\n# The following lines are desirable for IPv6 capable hosts\n::1\tlocalhost ip6-localhost ip6-loopback\n',
    );
    expect(setHostsEntry('127.0.0.1\tlocalhost\n10.0.0.9\tcp-1 other\n', '10.0.2.15', ['cp-1'])).toBe(
      '127.0.0.1\tlocalhost\n10.0.2.15\tcp-1\n10.0.0.9\tother\n',
    );
  });

  it('hostsMaps says whether a name already resolves to an address', () => {
    const hosts = setHostsEntry(DEBIAN, '10.0.2.15', ['cp-1.lab', 'cp-1']);
    expect(hostsMaps(hosts, '10.0.2.15', 'cp-1')).toBe(true);
    expect(hostsMaps(hosts, '127.0.1.1', 'cp-1')).toBe(false);
  });
});
