/** --collect-cgroup's naming: container ids in the runtimes' cgroup names, ids resolved by walking a tree */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupNames, cgroup2Mount, containerIdOf, isUnder, resolveCgroupArg } from '../../src/events/cgroup.js';

const ID = 'c0ffee'.repeat(10) + 'abcd';

test('containerIdOf: docker, containerd, CRI-O and podman scope names and /docker/ID; the innermost id; none in a plain path', () => {
  for (const p of [
    `/system.slice/docker-${ID}.scope`,
    `/kubepods.slice/kubepods-pod1.slice/cri-containerd-${ID}.scope`,
    `/kubepods/besteffort/pod1/crio-${ID}.scope`,
    `/machine.slice/libpod-${ID}.scope/container`,
    `/docker/${ID}`,
  ])
    assert.equal(containerIdOf(p), ID, p);
  assert.equal(containerIdOf(`/docker/${'1'.repeat(64)}/docker/${ID}`), ID);
  assert.equal(containerIdOf('/user.slice/user-1000.slice/session-2.scope'), null);
  assert.equal(containerIdOf(`/x/docker-${ID}x.scope`), null);
});

test('CgroupNames: an id is the inode of its directory, found by a walk; a new cgroup by a new walk, an unknown id walks again only after 250 ms; findUnder walks one subtree at once', () => {
  const root = mkdtempSync(join(tmpdir(), 'execlens-cg-'));
  let now = 0;
  try {
    mkdirSync(join(root, 'a/b'), { recursive: true });
    const names = new CgroupNames(root, () => now);
    const ino = (rel: string) => statSync(join(root, rel), { bigint: true }).ino;
    assert.deepEqual(names.resolve(ino('a/b')), { path: '/a/b', containerId: null });
    assert.equal(names.resolve(ino('')).path, '/');
    assert.equal(names.scans, 1);
    mkdirSync(join(root, `docker-${ID}.scope`));
    now = 300;
    assert.deepEqual(names.resolve(ino(`docker-${ID}.scope`)), { path: `/docker-${ID}.scope`, containerId: ID });
    assert.equal(names.scans, 2);
    // gone before it was seen: unresolved, and no walk per exec
    assert.equal(names.resolve(123456789n).path, null);
    assert.equal(names.resolve(123456789n).path, null);
    assert.equal(names.scans, 2);
    assert.deepEqual(names.resolve(0n), { path: null, containerId: null });
    // --cgroup: a cgroup made under the wanted one since the last walk is found at once, by a walk of that subtree
    mkdirSync(join(root, 'a/b/new'));
    assert.equal(names.resolve(ino('a/b/new')).path, null, 'within 250 ms of the last walk');
    assert.equal(names.findUnder(ino('a/b/new'), '/a/b'), '/a/b/new');
    assert.equal(names.resolve(ino('a/b/new')).path, '/a/b/new', 'remembered');
    assert.equal(names.findUnder(ino(`docker-${ID}.scope`), '/a'), null, 'not under /a');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cgroup2Mount: the cgroup2 line of a mount table (unified or hybrid), null without one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'execlens-mounts-'));
  try {
    const f = join(dir, 'mounts');
    writeFileSync(
      f,
      'tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n',
    );
    assert.equal(cgroup2Mount(f), '/sys/fs/cgroup/unified');
    writeFileSync(f, 'cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n');
    assert.equal(cgroup2Mount(f), '/sys/fs/cgroup');
    writeFileSync(f, 'proc /proc proc rw 0 0\n');
    assert.equal(cgroup2Mount(f), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resolveCgroupArg: the path as /proc shows it (with or without the leading /) or the directory under the mount give the same cgroup, with its id (inode) and depth; a missing one or no cgroup v2 is a message', () => {
  const mount = mkdtempSync(join(tmpdir(), 'execlens-cgmount-'));
  try {
    mkdirSync(join(mount, 'system.slice/nginx.service'), { recursive: true });
    const dir = join(mount, 'system.slice/nginx.service');
    const want = { path: '/system.slice/nginx.service', dir, id: statSync(dir, { bigint: true }).ino, level: 2 };
    assert.deepEqual(resolveCgroupArg('/system.slice/nginx.service', mount), want);
    assert.deepEqual(resolveCgroupArg('system.slice/nginx.service/', mount), want);
    assert.deepEqual(resolveCgroupArg(join(mount, 'system.slice/nginx.service'), mount), want);
    assert.deepEqual(resolveCgroupArg(mount, mount), {
      path: '/',
      dir: mount,
      id: statSync(mount, { bigint: true }).ino,
      level: 0,
    });
    assert.match(
      resolveCgroupArg('/nope', mount) as string,
      /^--cgroup \/nope: no such cgroup \(no directory .*\/nope\)/,
    );
    writeFileSync(join(mount, 'system.slice/cgroup.procs'), '');
    assert.match(
      resolveCgroupArg('/system.slice/cgroup.procs', mount) as string,
      /no such cgroup/,
      'a file is no cgroup',
    );
    assert.match(resolveCgroupArg('/x', null) as string, /no cgroup v2 is mounted/);
  } finally {
    rmSync(mount, { recursive: true, force: true });
  }
  assert.ok(isUnder('/a/b', '/a') && isUnder('/a', '/a') && isUnder('/z', '/'));
  assert.ok(!isUnder('/ab', '/a') && !isUnder('/a', '/a/b'));
});
