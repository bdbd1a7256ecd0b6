#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the hand-made seeds of tests/fuzz/corpus/ (fuzz-bo.c's input
# format: a probe byte, then per call an op byte and its argument bytes).
# Run from anywhere; the op numbers follow fuzz-bo.c's ops[] table.
import os

(OPEN, CLOSEFD, FOPEN, FOPENBAD, FREF, FUNREF, IMP, IMPF, ADOPT, ADOPTX,
 ADOPTBAD, DUMB, LOOKUP, FIND, BREF, BUNREF, EXPORT, FOREIGN, CLOSEDB, FLINK,
 XLAT, INJECT, DUMP, IDENT) = range(24)
PROBE, NOPROBE = 1, 0

seeds = {
    # Two files on one device, a foreign dma-buf imported twice, exported,
    # translated render -> card, released.
    'prime-translate': [PROBE, OPEN, 0, OPEN, 2, FOPEN, 0, 1, FOPEN, 1, 2,
        FOREIGN, 1, IMP, 1, 3, 2, IMP, 1, 3, 3, EXPORT, 0, 1, IMP, 0, 4, 1,
        XLAT, 0, 0, 1, XLAT, 0, 0, 2, DUMP, 0, BUNREF, 0, 2, BUNREF, 0, 3,
        BUNREF, 1, 1, FUNREF, 0, 2, FUNREF, 0, 1],
    # A dumb buffer on the card node, flink, the name imported in another
    # card file, lookups and finds, double unrefs.
    'flink': [NOPROBE, OPEN, 0, OPEN, 0, FOPEN, 0, 1, FOPEN, 1, 3,
        DUMB, 0, 8, 8, 0, 1, FLINK, 0, 1, FLINK, 0, 1, IMPF, 1, 2, 3,
        IMPF, 1, 2, 1, IMPF, 0, 2, 2, LOOKUP, 0, 2, 0, FIND, 0, 2, 0,
        BUNREF, 0, 3, BUNREF, 0, 3, FUNREF, 0, 1, FUNREF, 0, 1],
    # Adopt: new, merge, conflict, another description, bogus handles.
    'adopt': [NOPROBE, OPEN, 2, OPEN, 2, FOPEN, 0, 3, FOPEN, 1, 1,
        ADOPT, 0, 1, 3, 1, ADOPTX, 0, 0, 1, ADOPTX, 0, 1, 2,
        ADOPT, 0, 0, 3, 1, ADOPTBAD, 0, 1, ADOPTBAD, 0, 4, ADOPTBAD, 0, 0,
        BUNREF, 0, 3, BUNREF, 0, 1, FREF, 0, 0, FUNREF, 0, 0, FUNREF, 0, 0],
    # Injected failures: import, export, create, allocation, EINTR.
    'inject': [NOPROBE, OPEN, 0, FOPEN, 0, 1, FOREIGN, 2, INJECT, 0,
        IMP, 0, 3, 1, INJECT, 0x20, IMP, 0, 3, 1, INJECT, 4,
        DUMB, 0, 4, 4, 0, 1, INJECT, 8, DUMB, 0, 4, 4, 0, 2, INJECT, 0x11,
        EXPORT, 0, 1, EXPORT, 0, 1, CLOSEDB, 0, CLOSEFD, 0, BUNREF, 0, 1],
    # Files: bad opens, refs and unrefs with wrong apis, two devices.
    'files': [NOPROBE, OPEN, 0, OPEN, 1, OPEN, 3, FOPEN, 0, 0, FOPEN, 0x40, 1,
        FOPEN, 1, 2, FOPEN, 2, 15, FOPENBAD, 0, FOPENBAD, 2, FOPENBAD, 3,
        FREF, 0, 3, FUNREF, 0, 2, FUNREF, 0, 3, FUNREF, 0, 3,
        DUMB, 1, 2, 2, 0, 1, XLAT, 0, 0, 1, CLOSEFD, 1, FUNREF, 1, 2],
    # Identity none: a further opener gets a private file; adopt through
    # the test's fd is refused, through shws's own fd accepted; then kcmp's
    # sorted index and epoll.
    'identity': [PROBE, OPEN, 0, OPEN, 2, FOPEN, 0, 1, IDENT, 3,
        FOPEN, 0x80, 2, FOPEN, 0, 3, FOPEN, 1, 1, FOPEN, 0x81, 2,
        ADOPT, 0, 1, 3, 1, ADOPT, 1, 1, 3, 1, FOREIGN, 1, IMP, 2, 3, 1,
        XLAT, 0, 0, 1, DUMP, 2, IDENT, 1, OPEN, 0, OPEN, 0, OPEN, 2,
        FOPEN, 4, 1, FOPEN, 5, 1, FOPEN, 6, 2, FOPEN, 4, 3,
        ADOPT, 3, 1, 2, 2, IDENT, 2, FOPEN, 5, 0, IDENT, 0,
        BUNREF, 0, 1, FUNREF, 0, 1],
    # The translation cache with a reused handle number: render -> card,
    # the card bo released, a dumb buffer takes its handle, translate again.
    'xlat-reuse': [NOPROBE, OPEN, 2, OPEN, 0, FOPEN, 0, 1, FOPEN, 1, 1,
        FOREIGN, 0, IMP, 0, 3, 1, XLAT, 0, 1, 1, BUNREF, 1, 1,
        DUMB, 1, 4, 4, 0, 1, XLAT, 0, 1, 2, XLAT, 0, 1, 3],
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
os.makedirs(out, exist_ok=True)
for name, ops in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(bytes(x & 0xff for x in ops))
