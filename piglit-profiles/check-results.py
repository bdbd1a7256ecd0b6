#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compares a piglit results folder with expectations in deqp-runner's format
and exits 1 on any unexpected result, so a CI job can gate on it.

    check-results.py PROFILE.xml.gz RESULTS_DIR EXPECTATIONS_DIR

EXPECTATIONS_DIR holds (each optional, '#' starts a comment):
  shws-fails.txt   "test-name,Status" lines: the result each listed test is
                   known to give (Fail, Crash, Timeout, Warn, Skip); every
                   other test must Pass. A listed test that passes is an
                   UnexpectedPass, which fails the check like deqp-runner's.
  shws-flakes.txt  one regex per line: a matching test may give any result.
  shws-skips.txt   one regex per line: matching tests are not run (the run
                   script passes them to `piglit run -x`) and not expected.

Names are piglit's (shws@kernel@smoke); a test's result is piglit's: the
worst of its subtests, or its own when it has none. Every test the profile
lists must have a result ("Missing" otherwise), and every line of the fails
file must name a test of the profile, so the file stays honest.
Prints one line per unexpected result, writes RESULTS_DIR/failures.csv in the
fails file's format, and ends with "piglit: N pass, N fail, N unexpected".
"""
import bz2
import gzip
import json
import lzma
import os
import re
import sys
import xml.etree.ElementTree as et

STATUS = {
    'pass': 'Pass', 'fail': 'Fail', 'crash': 'Crash', 'timeout': 'Timeout',
    'warn': 'Warn', 'skip': 'Skip', 'dmesg-warn': 'Warn',
    'dmesg-fail': 'Fail', 'incomplete': 'Crash', 'notrun': 'Missing',
}
KNOWN = set(STATUS.values()) - {'Pass', 'Missing'}


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.split('#', 1)[0].strip() for l in f
                if l.split('#', 1)[0].strip()]


def load_fails(path):
    fails = {}
    for line in lines(path):
        name, sep, status = line.rpartition(',')
        if not sep or status not in KNOWN:
            sys.exit('{}: bad line "{}" (want NAME,{})'.format(
                path, line, '|'.join(sorted(KNOWN))))
        fails[name] = status
    return fails


def load_results(folder):
    opener = {'.json': open, '.bz2': bz2.open, '.gz': gzip.open,
              '.xz': lzma.open}
    for f in sorted(os.listdir(folder)):
        if f.startswith('results.json'):
            path = os.path.join(folder, f)
            with opener[os.path.splitext(f)[1]](path, 'rt') as fh:
                return json.load(fh)['tests']
    sys.exit('check-results.py: no results.json* in ' + folder)


def profile_names(path):
    with gzip.open(path, 'rt') as f:
        return [e.attrib['name'] for e in et.parse(f).getroot().iter('Test')]


def main():
    if len(sys.argv) != 4:
        sys.exit('usage: check-results.py PROFILE.xml.gz RESULTS_DIR '
                 'EXPECTATIONS_DIR')
    profile, results_dir, exp = sys.argv[1:]
    fails = load_fails(os.path.join(exp, 'shws-fails.txt'))
    flakes = [re.compile(r) for r in lines(os.path.join(exp, 'shws-flakes.txt'))]
    skips = [re.compile(r) for r in lines(os.path.join(exp, 'shws-skips.txt'))]
    results = load_results(results_dir)
    names = profile_names(profile)

    counts = {'pass': 0, 'fail': 0, 'unexpected': 0, 'flake': 0, 'skipped': 0}
    unexpected = []
    for name in names:
        if any(r.search(name) for r in skips):
            counts['skipped'] += 1
            continue
        t = results.get(name)
        got = STATUS.get(t['result'], 'Fail') if t else 'Missing'
        want = fails.get(name, 'Pass')
        counts['pass' if got == 'Pass' else 'fail'] += 1
        if got == want:
            continue
        if any(r.search(name) for r in flakes):
            counts['flake'] += 1
            print('flake: {}: {} (expected {})'.format(name, got, want))
            continue
        if want != 'Pass' and got == 'Pass':
            got = 'UnexpectedPass'
        unexpected.append((name, got, want))
    for name in sorted(set(fails) - set(names)):
        unexpected.append((name, 'NotInProfile', fails[name]))

    with open(os.path.join(results_dir, 'failures.csv'), 'w') as f:
        for name, got, want in unexpected:
            print('unexpected: {}: {} (expected {})'.format(name, got, want))
            f.write('{},{}\n'.format(name, got))
    counts['unexpected'] = len(unexpected)
    extra = ''
    if counts['flake'] or counts['skipped']:
        extra = ' ({flake} flaky, {skipped} skipped)'.format(**counts)
    print('piglit: {pass} pass, {fail} fail, {unexpected} unexpected'
          .format(**counts) + extra)
    sys.exit(1 if unexpected or not names else 0)


if __name__ == '__main__':
    main()
