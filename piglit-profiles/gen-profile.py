#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes shws.xml.gz, a piglit test profile with every shws unit and kernel
test, from meson's own test list (BUILD/meson-info/intro-tests.json), so the
profile lists exactly what `meson test --suite unit --suite kernel` runs.

    gen-profile.py BUILD_ROOT OUTPUT.xml.gz

The format is what Debian's piglit (0~git20220119) loads from an absolute
path (framework/profile.py: XMLProfile, make_test): a gzipped
<PiglitTestList count= name=> of <Test type="gl" name="group@test"> elements
with <option name= value=> children, values as Python literals, and an
<environment><env name= value=/></environment> block.

Every test is named shws@SUITE@NAME (meson's unit-log -> shws@unit@log) and
runs with SHWS_PIGLIT=1, so tests/test.h prints piglit's PIGLIT: lines.
Kernel tests run their program directly: piglit itself runs in the VM.
type "gl" is piglit's generic native-test class (PiglitGLTest); it appends
-auto (and -fbo) to the command, so the command is wrapped in /bin/sh -c,
whose script ignores them. No test runs concurrently: piglit runs its
concurrent pool *alongside* the serial one, and a unit test can still touch
the VM's DRM devices (unit-shws-info makes a dumb buffer and a dma-buf to
probe sync_file support), which moves the system-wide bufinfo count that
the kernel tests use as their leak oracle.
"""
import gzip
import json
import os
import shlex
import sys
import xml.etree.ElementTree as et

SUITES = ('unit', 'kernel')


def profile_tests(build_root):
    with open(os.path.join(build_root, 'meson-info', 'intro-tests.json')) as f:
        tests = json.load(f)
    out = []
    for t in tests:
        # meson names suites PROJECT:SUITE; only shws's own count.
        suites = [s.split(':', 1)[1] for s in t['suite']
                  if s.startswith('shws:')]
        suite = next((s for s in SUITES if s in suites), None)
        if suite is None:
            continue
        name = t['name']
        if name.startswith(suite + '-'):
            name = name[len(suite) + 1:]
        out.append((suite, name, t))
    out.sort(key=lambda x: (SUITES.index(x[0]), x[1]))
    return out


def real_command(cmd):
    """A kernel test's meson command is tests/vm/ktest MANIFEST RESULTS NAME
    BUILD, which boots a VM; the profile runs the test program itself, from
    its manifest line "NAME TIMEOUT PATH [ARG...]" (the VM is outside)."""
    if not cmd[0].endswith('/vm/ktest'):
        return cmd
    manifest, name = cmd[1], cmd[3]
    with open(manifest) as f:
        for line in f:
            words = line.split()
            if words and words[0] == name:
                return words[2:]
    sys.exit('gen-profile.py: {} not in {}'.format(name, manifest))


def make_element(build_root, suite, name, t):
    cmd = real_command(t['cmd'])
    script = 'exec ' + ' '.join(shlex.quote(c) for c in cmd)
    # meson runs a test without a workdir from the build root, and passes
    # built programs as paths relative to it: do the same under piglit.
    workdir = t.get('workdir') or os.path.abspath(build_root)
    script = 'cd {} && {}'.format(shlex.quote(workdir), script)
    e = et.Element('Test', type='gl', name='shws@{}@{}'.format(suite, name))
    et.SubElement(e, 'option', name='command',
                  value=repr(['/bin/sh', '-c', script]))
    et.SubElement(e, 'option', name='run_concurrent', value=repr(False))
    env = et.SubElement(e, 'environment')
    for k, v in sorted(dict(t.get('env') or {}, SHWS_PIGLIT='1').items()):
        et.SubElement(env, 'env', name=k, value=v)
    return e


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: gen-profile.py BUILD_ROOT OUTPUT.xml.gz')
    build_root, output = sys.argv[1:]
    tests = profile_tests(build_root)
    if not tests:
        sys.exit('gen-profile.py: no unit or kernel tests in ' + build_root)
    root = et.Element('PiglitTestList', count=str(len(tests)), name='shws')
    for suite, name, t in tests:
        root.append(make_element(build_root, suite, name, t))
    data = et.tostring(root, encoding='utf-8', xml_declaration=True)
    # Rewrite only on change, so the file's mtime means something.
    try:
        with gzip.open(output, 'rb') as f:
            if f.read() == data:
                return
    except OSError:
        pass
    tmp = output + '.tmp'
    with gzip.GzipFile(tmp, 'wb', mtime=0) as f:
        f.write(data)
    os.replace(tmp, output)


if __name__ == '__main__':
    main()
