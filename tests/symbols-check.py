#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fails unless libshws exports exactly the symbols listed in src/shws.sym."""
import subprocess
import sys

# Symbols the toolchain adds to every shared object.
TOOLCHAIN = {'_init', '_fini', '__bss_start', '_edata', '_end'}


def exported(lib):
    out = subprocess.run(['nm', '-D', '--defined-only', lib], check=True,
                         capture_output=True, text=True).stdout
    syms = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in 'TDBRVWiu':
            syms.add(fields[2].split('@')[0])
    return syms - TOOLCHAIN


def listed(path):
    with open(path) as f:
        return {l.strip() for l in f if l.strip() and not l.startswith('#')}


def main():
    lib, symfile = sys.argv[1], sys.argv[2]
    have, want = exported(lib), listed(symfile)
    extra, missing = sorted(have - want), sorted(want - have)
    for s in extra:
        print(f'exported but not listed in shws.sym: {s}')
    for s in missing:
        print(f'listed in shws.sym but not exported: {s}')
    if not have:
        print('no exported symbols found: is nm working?')
        return 1
    print(f'{len(have)} exported symbols, all listed')
    return 1 if extra or missing else 0


sys.exit(main())
