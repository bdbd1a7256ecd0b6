#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""shws-info --json on the host: valid JSON, the identity methods, the
SHWS_IDENTITY override, and F_DUPFD_QUERY reported on kernels >= 6.10."""
import json
import os
import platform
import subprocess
import sys


def run(tool, *args, env=None):
    e = dict(os.environ)
    e.pop('SHWS_IDENTITY', None)
    e.update(env or {})
    p = subprocess.run([tool, *args], capture_output=True, text=True, env=e)
    return p.returncode, p.stdout, p.stderr


# Under piglit (SHWS_PIGLIT=1, set by the shws profile) speak its protocol,
# as tests/test.h does for the C tests: one subtest line per PASS, and a
# failing subtest plus the result on failure.
PIGLIT = os.environ.get('SHWS_PIGLIT') == '1'


def passed(name):
    print('PASS', name)
    if PIGLIT:
        print('PIGLIT: ' + json.dumps({'subtest': {name: 'pass'}}))


def check(cond, what):
    if not cond:
        print('FAIL', what)
        if PIGLIT:
            print('PIGLIT: ' + json.dumps({'subtest': {'check-failed': 'fail'}}))
            print('PIGLIT: ' + json.dumps({'result': 'fail'}))
        sys.exit(1)


def main():
    tool = sys.argv[1]
    rc, out, _ = run(tool, '--json')
    check(rc == 0, 'exit status %d' % rc)
    info = json.loads(out)
    ident = info['identity']
    check(ident['chosen'] in ident['available'], 'chosen is available')
    check('epoll' in ident['available'], 'epoll available')
    check(ident['seccomp'] is False, 'no seccomp in the test runner')
    major, minor = (int(x) for x in platform.release().split('.')[:2])
    if (major, minor) >= (6, 10):
        check('dupfd_query' in ident['available'], 'dupfd_query on >= 6.10')
        check(ident['chosen'] == 'dupfd_query', 'dupfd_query chosen')
    check(isinstance(info['devices'], list), 'devices list')
    for dev in info['devices']:
        check(dev['driver'], 'device has a driver')
        check(any(dev['nodes'].values()), 'device has a node')
    if info['devices']:
        check(info['self_check']['ok'] is True, 'self-check ok')
    if os.environ.get('SHWS_VM') == '1':
        # In the test VM (tests/vm/run): both drivers, and kcmp before 6.10.
        drivers = {d['driver'] for d in info['devices']}
        check({'vgem', 'virtio_gpu'} <= drivers, 'vgem and virtio_gpu listed')
        if (major, minor) < (6, 10):
            check(ident['chosen'] == 'kcmp', 'kcmp chosen before 6.10')
            check('dupfd_query' not in ident['available'], 'no dupfd_query')
    passed('json')

    works = info['identity']['available']
    for method in ('dupfd_query', 'kcmp', 'epoll', 'none'):
        rc, out, _ = run(tool, '--json', env={'SHWS_IDENTITY': method})
        ident = json.loads(out)['identity']
        check(rc == 0, 'exit status with %s' % method)
        check(ident['override'] == method, 'override %s shown' % method)
        # A forced method that does not work here leaves none at all.
        want = method if method in works else 'none'
        check(ident['chosen'] == want, 'override %s chosen' % method)
        check(ident['available'] == ([] if want == 'none' else [method]),
              'override %s available' % method)
    passed('override')

    rc, out, _ = run(tool)
    check(rc == 0 and 'identity method chosen:' in out, 'text output')
    rc, _, err = run(tool, '--bogus')
    check(rc == 2 and 'usage' in err, 'bad option')
    rc, _, err = run(tool, '--debug', '--json')
    check(rc == 0 and 'identity probe' in err, '--debug logs')
    passed('cli')


main()
if PIGLIT:
    print('PIGLIT: ' + json.dumps({'result': 'pass'}))
