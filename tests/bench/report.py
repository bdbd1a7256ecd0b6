#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/bench/report.py OUTDIR: turns OUTDIR/raw.txt (the benchmarks'
`NAME value unit (baseline value, ratio)` lines) into results.json,
results.tsv and PNG plots (gnuplot). Called by tests/bench/run."""
import json
import os
import re
import subprocess
import sys

LINE = re.compile(r'^(\S+) (\S+) (\S+) \(baseline (?:(\S+) \S+|-), (\S+)\)$')

# name regex -> (what is compared, limit on the ratio, description)
GOALS = [
    (r'^P1-lookup-(futex-)?\d+h-2t$', 'ratio', 0.20,
     'lookup at 2 threads at least 5x faster than the baseline'),
    (r'^P1-find-(futex-)?\d+h-2t$', 'ratio', 0.20,
     'borrowed lookup at 2 threads at least 5x faster than the baseline'),
    # strace -c diffs also count the harness (barrier, join: futex when a
    # thread waits), so only the seccomp figure is exact for the loop.
    (r'^P1-seccomp-syscalls-.*$', 'value', 0.0,
     'no syscall per lookup (seccomp kills on any)'),
    (r'^P2-import-dedupe-hit$', 'ratio', 1.10,
     'dedupe-hit import at most 1.10x the raw ioctl'),
    (r'^P3-registry-(auto-)?kcmp-64f$', 'ratio', 2.0,
     '64 files at most 2x the 1-file cost'),
]


def parse(path):
    res = []
    meta = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('# '):
                k, _, v = line[2:].partition(' ')
                meta.setdefault(k, v)
                continue
            m = LINE.match(line)
            if not m:
                continue
            name, value, unit, base, ratio = m.groups()
            r = {'name': name, 'value': float(value), 'unit': unit,
                 'baseline': float(base) if base else None,
                 'ratio': float(ratio) if ratio != '-' else None}
            for pat, what, limit, desc in GOALS:
                if re.match(pat, name):
                    got = r[what]
                    r['goal'] = '%s <= %g (%s)' % (what, limit, desc)
                    r['met'] = got is not None and got <= limit
            res.append(r)
    return res, meta


def table(res, prefix):
    return {r['name'][len(prefix):]: r for r in res
            if r['name'].startswith(prefix)}


def dat(out, name, rows):
    path = os.path.join(out, name + '.dat')
    with open(path, 'w') as f:
        for row in rows:
            f.write(' '.join(str(x) for x in row) + '\n')
    return path


def plots(out, res):
    gp = ['set terminal pngcairo size 800,500 noenhanced',
          'set style data histograms', 'set style histogram clustered',
          'set style fill solid 0.8 border -1', 'set key top left',
          'set grid ytics', 'set yrange [0:*]']
    p1 = {**table(res, 'P1-lookup-'), **table(res, 'P1-find-')}
    if p1:
        f = dat(out, 'p1', [(k, v['value'], v['baseline'])
                            for k, v in p1.items()])
        gp += ['set xtics rotate by -30 left', 'set bmargin 6',
               'set offsets 0, 0, graph 0.3, 0',
               'set output "%s/p1-lookup.png"' % out,
               'set title "P1: lookup + release, and borrowed find (ns, lower is better)"',
               'set ylabel "ns per lookup"',
               'plot "%s" using 2:xtic(1) title "shws (lock-free table)", '
               '"" using 3 title "baseline (pthread or futex mutex + hash '
               'table)"' % f]
    p2 = {k: v for k, v in table(res, 'P2-').items()}
    if p2:
        # P2-unref-not-last has no kernel baseline: not in the bars.
        f = dat(out, 'p2', [(k, v['value'], v['baseline'])
                            for k, v in p2.items() if v['baseline']])
        gp += ['set xtics norotate', 'set bmargin', 'set offsets 0, 0, 0, 0',
               'set output "%s/p2-import.png"' % out,
               'set title "P2: dma-buf import/release in the VM (ns; TCG: '
               'only the ratio counts)"',
               'set ylabel "ns per operation"',
               'plot "%s" using 2:xtic(1) title "shws", '
               '"" using 3 title "raw ioctl"' % f]
    reg = table(res, 'P3-registry-')
    if reg:
        methods = sorted({k.rsplit('-', 1)[0] for k in reg})
        rows = []
        for n in (1, 8, 64):
            rows.append([n] + [reg.get('%s-%df' % (m, n), {}).get('value',
                                                                  'NaN')
                               for m in methods])
        f = dat(out, 'p3', rows)
        gp += ['set style data linespoints', 'set logscale x 2',
               'set output "%s/p3-registry.png"' % out,
               'set title "P3: registry lookup vs files open on one node '
               '(VM)"',
               'set xlabel "files on the node"',
               'set ylabel "ns per shws_file_open + unref"',
               'plot ' + ', '.join('"%s" using 1:%d title "%s"' % (f, i + 2, m)
                                   for i, m in enumerate(methods)),
               'unset logscale x', 'unset xlabel',
               'set style data histograms']
    p4 = table(res, 'P4-')
    if p4:
        rows = [(k, v['value'], v['baseline'])
                for k, v in p4.items() if 'syscalls' in k and v['baseline']]
    if p4 and rows:
        f = dat(out, 'p4', rows)
        gp += ['set output "%s/p4-wsi.png"' % out,
               'set title "P4: syscalls, explicit sync vs blocking fallback"',
               'set ylabel "syscalls per acquire+release / per frame"',
               'plot "%s" using 2:xtic(1) title "explicit", '
               '"" using 3 title "fallback"' % f]
    script = os.path.join(out, 'plots.gp')
    with open(script, 'w') as f:
        f.write('\n'.join(gp) + '\n')
    subprocess.run(['gnuplot', script], check=True)


def main():
    out = sys.argv[1]
    res, meta = parse(os.path.join(out, 'raw.txt'))
    with open(os.path.join(out, 'results.json'), 'w') as f:
        json.dump({'machine': meta, 'results': res}, f, indent=1)
    with open(os.path.join(out, 'results.tsv'), 'w') as f:
        f.write('name\tvalue\tunit\tbaseline\tratio\tgoal\tmet\n')
        for r in res:
            f.write('\t'.join(str(r.get(k, '') if r.get(k) is not None
                                  else '') for k in
                              ('name', 'value', 'unit', 'baseline', 'ratio',
                               'goal', 'met')) + '\n')
    plots(out, res)
    for r in res:
        if 'met' in r:
            print('%-34s %s: %s' % (r['name'], r['goal'],
                                    'met' if r['met'] else 'MISSED'))


main()
