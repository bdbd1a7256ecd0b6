#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks src/ against the layering written in docs/architecture.md.

usage: layering.py ARCHITECTURE_MD SRC_DIR
       layering.py --self-test   (the checker's own tests, on a tiny tree)

The section "## Layers" of ARCHITECTURE_MD holds a markdown table
| module | files | may use |; this script parses it and fails on:
  - a module that may use an unknown module, or a cycle in the table;
  - a file listed twice, a listed file that is not in SRC_DIR, a .c or .h
    file directly in SRC_DIR (src/tools/ is not part of the library) that
    no module lists;
  - an edge the table does not allow. Edges of a file of module N:
      #include "x.h"   -> the module that lists x.h
      a call of f, or any other use of the name f, in a function body or a
      macro body -> the module of the file that defines f (functions and
      function-like macros, static inline ones in headers included; a
      static function of another .c file is invisible and ignored)
    Public headers (#include <shws/...>) give types only and are not
    edges; calls of public functions count where they are defined.
Every offending edge is printed as
  file.c: calls shws_x (module M) — M is not allowed for module N
Comments and string literals are removed before anything is matched.
"""
import json
import os
import re
import sys

IDENT = re.compile(r'[A-Za-z_]\w*')
NONE_WORDS = {'', '—', '-', '–', 'none', 'nothing'}


class Error(Exception):
    pass


# --- the table -------------------------------------------------------------

def cell(text):
    return text.strip().strip('`').strip()


def parse_layers(md_path):
    """Returns [(module, [files], [may use])] from the ## Layers table."""
    with open(md_path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    try:
        start = next(i for i, l in enumerate(lines)
                     if re.match(r'^##\s+Layers\s*$', l))
    except StopIteration:
        raise Error(f'{md_path}: no "## Layers" section')
    section = []
    for l in lines[start + 1:]:
        if re.match(r'^##?\s', l):
            break
        section.append(l)
    rows, header = [], None
    for l in section:
        if not l.strip().startswith('|'):
            if header is not None and rows:
                break  # the table ended
            continue
        cells = [c.strip() for c in l.strip().strip('|').split('|')]
        if header is None:
            header = [c.lower() for c in cells]
            if header != ['module', 'files', 'may use']:
                raise Error(f'{md_path}: the ## Layers table must have the '
                            f'columns | module | files | may use |, not '
                            f'{header}')
            continue
        if all(re.fullmatch(r':?-+:?', c) for c in cells):
            continue  # the separator row
        if len(cells) != 3:
            raise Error(f'{md_path}: a ## Layers row needs 3 cells: {l}')
        module = cell(cells[0])
        files = [cell(x) for x in cells[1].split(',') if cell(x)]
        uses = [cell(x) for x in cells[2].split(',')]
        uses = [u for u in uses if u.lower() not in NONE_WORDS]
        rows.append((module, files, uses))
    if not rows:
        raise Error(f'{md_path}: the ## Layers section has no table rows')
    return rows


def table_cycles(allowed):
    """Every elementary cycle found by a depth-first search, as a path."""
    cycles, state, stack = [], {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in allowed[m]:
            if n == m:
                continue
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in allowed:
        if m not in state:
            visit(m)
    return cycles


# --- the sources -----------------------------------------------------------

def strip_comments(text, strings_too):
    """Blanks comments (and, if strings_too, the contents of string and
    character literals), keeping every newline so line numbers hold."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(' ' + '\n' * text.count('\n', i, j))
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            # A // comment continued by a backslash eats the next line.
            while j < n and text[j - 1] == '\\':
                k = text.find('\n', j + 1)
                j = n if k < 0 else k
            out.append(' ' + '\n' * text.count('\n', i, j))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            j = min(j + 1, n)
            out.append(c + c if strings_too else text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def logical_lines(text):
    """Joins backslash-continued lines (line numbers are not needed)."""
    return text.replace('\\\n', ' ').split('\n')


def matching(text, i, open_c, close_c):
    """Index just past the bracket matching text[i] == open_c, or -1."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == open_c:
            depth += 1
        elif text[j] == close_c:
            depth -= 1
            if depth == 0:
                return j + 1
    return -1


ATTRIBUTE = re.compile(r'\s*(__attribute__\s*\(\(.*?\)\)|__asm__\s*\(.*?\)'
                       r'|\w+_ATTR\w*)', re.S)


class Source:
    def __init__(self, path):
        self.name = os.path.basename(path)
        with open(path, encoding='utf-8') as f:
            raw = f.read()
        no_comments = strip_comments(raw, strings_too=False)
        self.includes = []
        for line in logical_lines(no_comments):
            m = re.match(r'\s*#\s*include\s*"([^"]+)"', line)
            if m:
                self.includes.append(m.group(1))
        code = strip_comments(raw, strings_too=True)
        self.defs = {}      # name -> True if static (file-local)
        self.uses = {}      # name -> True if called at least once
        body_lines, macro_bodies = [], []
        for line in logical_lines(code):
            m = re.match(r'\s*#\s*define\s+(\w+)(\(?)(.*)', line)
            if m:
                if m.group(2):  # function-like: a definition of its name
                    # (file-local in a .c file, like a static function)
                    self.defs.setdefault(m.group(1), path.endswith('.c'))
                    args = matching('(' + m.group(3), 0, '(', ')')
                    macro_bodies.append(m.group(3)[max(args - 1, 0):])
                else:
                    macro_bodies.append(m.group(3))
                body_lines.append('')
            elif re.match(r'\s*#', line):
                body_lines.append('')
            else:
                body_lines.append(line)
        self.code = '\n'.join(body_lines)
        self._definitions()
        for body in macro_bodies:
            self._collect_uses(body, 0, len(body))

    def _definitions(self):
        """Function definitions at file scope: NAME ( ... ) [attributes] {.
        The name may start its line (return type on the line above) or
        follow the return type; the body is scanned for uses."""
        code, i, depth, decl_start = self.code, 0, 0, 0
        self.code_before_brace = self.static_before_brace = False
        while i < len(code):
            c = code[i]
            if c == '{' and depth == 0 and '=' in code[decl_start:i]:
                # An initialiser ("... = { .fn = shws_x }"): read with
                # its declaration at the ';' that ends it.
                end = matching(code, i, '{', '}')
                if end < 0:
                    raise Error(f'{self.name}: unbalanced {{')
                i = end
                continue
            if c == '{':
                depth += 1
            elif c == '}':
                depth -= 1
                if depth == 0:
                    # A struct/union/enum body ended; a declarator may follow.
                    self.code_before_brace = True
                    self.static_before_brace = re.search(
                        r'\b(static|typedef)\b', code[decl_start:i]) is not None
                    decl_start = i + 1
                    i += 1
                    continue
            elif c == ';' and depth == 0:
                self._variable(code[decl_start:i])
                decl_start = i + 1
                self.code_before_brace = self.static_before_brace = False
            elif depth == 0 and (c.isalpha() or c == '_') and \
                    (i == 0 or not (code[i - 1].isalnum() or
                                    code[i - 1] == '_')):
                m = IDENT.match(code, i)
                name, j = m.group(0), m.end()
                k = j
                while k < len(code) and code[k].isspace():
                    k += 1
                if k < len(code) and code[k] == '(' and \
                        name not in ('__attribute__', '_Static_assert',
                                     'sizeof', '_Alignas', '__typeof__',
                                     'typeof', '__asm__'):
                    end = matching(code, k, '(', ')')
                    if end < 0:
                        raise Error(f'{self.name}: unbalanced ( after {name}')
                    a = end
                    while True:
                        am = ATTRIBUTE.match(code, a)
                        if not am:
                            break
                        a = am.end()
                    while a < len(code) and code[a].isspace():
                        a += 1
                    if a < len(code) and code[a] == '{':
                        prefix = code[decl_start:i]
                        static = re.search(r'\bstatic\b', prefix) is not None
                        self.defs[name] = static
                        body_end = matching(code, a, '{', '}')
                        if body_end < 0:
                            raise Error(f'{self.name}: unbalanced {{ in '
                                        f'{name}()')
                        self._collect_uses(code, k, body_end)
                        i = decl_start = body_end
                        continue
                    i = end
                    continue
                i = j
                continue
            i += 1
        if depth != 0:
            raise Error(f'{self.name}: unbalanced braces')

    def _variable(self, decl):
        """A file-scope variable definition ("atomic_uint x;", "int x[2]
        = {...};"): its name is a definition like a function's. Extern
        declarations, typedefs and prototypes are not."""
        decl = decl.strip()
        head = re.split(r'[=\[]', decl, maxsplit=1)[0]
        if not decl or '(' in head or \
                re.match(r'(extern|typedef)\b', decl):
            return
        names = IDENT.findall(head)
        # "struct {...} x" leaves the name alone after the braces.
        if names and (len(names) >= 2 or self.code_before_brace) and \
                names[-1] not in ('struct', 'union', 'enum'):
            self.defs.setdefault(names[-1],
                                 re.search(r'\bstatic\b', head) is not None
                                 or self.static_before_brace)
        if '=' in decl:  # an initialiser may name functions
            rest = decl[decl.index('='):]
            self._collect_uses(rest, 0, len(rest))

    def _collect_uses(self, code, start, end):
        for m in IDENT.finditer(code, start, end):
            before = code[max(start, m.start() - 8):m.start()].rstrip()
            if before.endswith(('.', '->')) or \
                    re.search(r'\b(struct|union|enum)$', before):
                continue  # a member or a tag, not a function
            k = m.end()
            while k < end and code[k].isspace():
                k += 1
            called = k < end and code[k] == '('
            name = m.group(0)
            self.uses[name] = self.uses.get(name, False) or called


# --- the check -------------------------------------------------------------

def check(md, src):
    """Returns (the problems, one summary line)."""
    errors = []
    try:
        rows = parse_layers(md)
    except Error as e:
        return [f'layering: {e}'], 'layering: no table'

    module_of, allowed = {}, {}
    for module, files, uses in rows:
        if module in allowed:
            errors.append(f'{md}: module {module} is listed twice')
        allowed[module] = set(uses)
        for f in files:
            if f in module_of:
                errors.append(f'{md}: {f} is listed by module '
                              f'{module_of[f]} and by module {module}')
            module_of[f] = module
    for module, uses in allowed.items():
        for u in sorted(uses - set(allowed)):
            errors.append(f'{md}: module {module} may use {u}, which is '
                          f'not a module')
    for cycle in table_cycles({m: u & set(allowed)
                               for m, u in allowed.items()}):
        errors.append(f'{md}: cycle in the layering: ' + ' → '.join(cycle))

    present = sorted(f for f in os.listdir(src)
                     if f.endswith(('.c', '.h')) and
                     os.path.isfile(os.path.join(src, f)))
    for f in sorted(set(module_of) - set(present)):
        errors.append(f'src/{f}: listed by module {module_of[f]} in {md} '
                      f'but does not exist')
    for f in present:
        if f not in module_of:
            errors.append(f'src/{f}: no module in {md} lists it')

    sources = {}
    for f in present:
        try:
            sources[f] = Source(os.path.join(src, f))
        except Error as e:
            errors.append(f'src/{e}')
    # Visible definitions: every function of a header and every
    # non-static function of a .c file; static ones only to their file.
    definers = {}
    for f, s in sources.items():
        for name, static in s.defs.items():
            if f.endswith('.h') or not static:
                definers.setdefault(name, set()).add(f)

    edges = 0
    for f, s in sources.items():
        mod = module_of.get(f)
        if mod is None:
            continue  # reported above
        for inc in s.includes:
            target = os.path.basename(inc)
            if inc != target or target not in present:
                errors.append(f'{f}: includes "{inc}", which is not a file '
                              f'of src/')
                continue
            tmod = module_of.get(target)
            edges += 1
            if tmod is None:
                errors.append(f'{f}: includes {target}, which no module '
                              f'lists')
                continue
            if tmod != mod and tmod not in allowed[mod]:
                errors.append(f'{f}: includes {target} (module {tmod}) — '
                              f'{tmod} is not allowed for module {mod}')
        for name, called in sorted(s.uses.items()):
            if name in s.defs:
                continue  # its own (a static helper, or its definition)
            where = definers.get(name, set())
            if not where:
                continue  # not defined in src/: libc, libdrm, a variable
            tmods = sorted({module_of[w] for w in where if w in module_of})
            if len(tmods) > 1:
                errors.append(f'{f}: {name} is defined in '
                              f'{", ".join(sorted(where))}: more than one '
                              f'module')
                continue
            edges += 1
            if not tmods or tmods[0] == mod or tmods[0] in allowed[mod]:
                continue
            verb = 'calls' if called else 'uses'
            errors.append(f'{f}: {verb} {name} (module {tmods[0]}) — '
                          f'{tmods[0]} is not allowed for module {mod}')

    return errors, (f'layering: {len(rows)} modules, {len(sources)} files, '
                    f'{edges} edges between files checked against {md}: '
                    f'{len(errors)} problem{"s" if len(errors) != 1 else ""}')


# --- the checker's own tests -------------------------------------------------

SELF_MD = """# t
## Layers
Words.

| module | files | may use |
|---|---|---|
| util | `util.h`, log.c | — |
| file | file_priv.h, file.c | util |
| bo | bo.c | file, util |

## Next
| module | files | may use |
| ignored | nothing.c | bo |
"""

SELF_SRC = {
    'util.h': '#define shws_err(...) \\\n\tshws_log_print(__VA_ARGS__)\n'
              'void shws_log_print(const char *fmt, ...);\n',
    'log.c': '#include "util.h"\n'
             'static int helper(void) { return 0; }\n'
             'void\nshws_log_print(const char *fmt, ...)\n{\n'
             '\t(void)fmt; (void)helper();\n}\n',
    'file_priv.h': '#include "util.h"\n'
                   'struct shws_file { int fd; };\n'
                   'static inline int\nshws_file_fd_priv(const struct '
                   'shws_file *f)\n{\n\treturn f->fd;\n}\n'
                   'int shws_file_hold(struct shws_file *f);\n',
    'file.c': '#include "file_priv.h"\n'
              '/* shws_bo_thing(f) would be a back-edge; a comment is not.\n'
              ' * #include "bo.h" */\n'
              'static const char *s = "shws_bo_thing(";\n'
              'static int helper(void) { return s[0]; }\n'
              'int shws_file_hold(struct shws_file *f)\n{\n'
              '\tshws_err("shws_bo_thing(%d)", helper());\n'
              '\treturn shws_file_fd_priv(f);\n}\n',
    'bo.c': '#include <shws/file.h>\n#include "file_priv.h"\n'
            'int shws_bo_thing(struct shws_file *f);\n'
            'static __attribute__((noinline)) int\n'
            'helper(struct shws_file *f)\n{\n'
            '\treturn shws_file_hold(f);\n}\n'
            'int shws_bo_thing(struct shws_file *f)\n{\n'
            '\treturn helper(f) + f->fd;\n}\n',
}


def self_test():
    import tempfile

    def run(name, md=SELF_MD, edit=None, want=()):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, 'src')
            os.mkdir(src)
            os.mkdir(os.path.join(src, 'tools'))
            files = dict(SELF_SRC)
            if edit:
                edit(files)
            for f, text in files.items():
                with open(os.path.join(src, f), 'w') as out:
                    out.write(text)
            with open(os.path.join(src, 'tools', 'tool.c'), 'w') as out:
                out.write('int main(void) { return shws_bo_thing(0); }\n')
            with open(os.path.join(d, 'a.md'), 'w') as out:
                out.write(md)
            errors, summary = check(os.path.join(d, 'a.md'), src)
        errors = [e.replace(d + '/', '') for e in errors]
        missing = [w for w in want if not any(w in e for e in errors)]
        ok = not missing and (bool(errors) == bool(want))
        print(f'{"PASS" if ok else "FAIL"} {name}')
        for e in errors:
            print(f'    {e}')
        for w in missing:
            print(f'    expected, not reported: {w}')
        return ok

    def add(f, text):
        return lambda files: files.__setitem__(f, files[f] + text)

    cases = [
        run('clean tree passes (comments, strings, statics, tools/ ignored)'),
        run('back-edge call', edit=add(
            'file.c', 'int back(void)\n{\n\treturn shws_bo_thing(0);\n}\n'),
            want=['file.c: calls shws_bo_thing (module bo) — bo is not '
                  'allowed for module file']),
        run('back-edge through a function pointer', edit=add(
            'log.c', 'void *p(void) { return (void *)shws_file_hold; }\n'),
            want=['log.c: uses shws_file_hold (module file) — file is not '
                  'allowed for module util']),
        run('back-edge include', edit=add('log.c', '#include "file_priv.h"\n'),
            want=['log.c: includes file_priv.h (module file) — file is not '
                  'allowed for module util']),
        run('back-edge call of a static inline of a header', edit=add(
            'util.h', 'static inline int u(struct shws_file *f) '
            '{ return shws_file_fd_priv(f); }\n'),
            want=['util.h: calls shws_file_fd_priv (module file) — file is '
                  'not allowed for module util']),
        run('back-edge in an initialiser', edit=add(
            'log.c', 'static struct { int (*f)(struct shws_file *); } t = '
            '{ .f = shws_file_hold };\n'),
            want=['log.c: uses shws_file_hold (module file) — file is not '
                  'allowed for module util']),
        run('back-edge to a variable', edit=lambda files: (
            files.__setitem__('file.c', files['file.c'] +
                              'unsigned shws_file_generation = 1;\n'),
            files.__setitem__('log.c', files['log.c'] +
                              'extern unsigned shws_file_generation;\n'
                              'unsigned g(void) { return '
                              'shws_file_generation; }\n')),
            want=['log.c: uses shws_file_generation (module file) — file '
                  'is not allowed for module util']),
        run('macros of a .c file are its own', edit=lambda files: (
            files.__setitem__('bo.c', files['bo.c'] +
                              '#define LOCAL(x) (x)\n'),
            files.__setitem__('log.c', files['log.c'] +
                              '#define LOCAL(x) (x)\n'
                              'int l(void) { return LOCAL(1); }\n'))),
        run('back-edge in a macro body', edit=add(
            'util.h', '#define U(f) shws_file_hold(f)\n'),
            want=['util.h: calls shws_file_hold (module file)']),
        run('cycle in the table',
            md=SELF_MD.replace('| util | `util.h`, log.c | — |',
                               '| util | `util.h`, log.c | bo |'),
            want=['cycle in the layering: ']),
        run('unknown module in the table',
            md=SELF_MD.replace('| file, util |', '| file, utils |'),
            want=['module bo may use utils, which is not a module']),
        run('unlisted file', edit=lambda f: f.__setitem__('extra.c', ''),
            want=['src/extra.c: no module in a.md lists it']),
        run('listed file missing', edit=lambda f: f.pop('log.c'),
            want=['src/log.c: listed by module util in a.md but does not '
                  'exist']),
        run('no table', md='# t\n## Layers\nnone\n',
            want=['no table rows']),
    ]
    print(f'layering self-test: {sum(cases)} of {len(cases)} cases passed')
    return 0 if all(cases) else 1


def main():
    if len(sys.argv) == 2 and sys.argv[1] == '--self-test':
        return self_test()
    if len(sys.argv) != 3:
        print(__doc__.split('\n\n')[1], file=sys.stderr)
        return 2
    errors, summary = check(sys.argv[1], sys.argv[2])
    for e in errors:
        print(e)
    print(summary)
    return 1 if errors else 0


def piglit_result(status):
    """Under piglit (SHWS_PIGLIT=1, set by the shws profile) the result is
    a protocol line, as tests/test.h and check-shws-info.py print it."""
    if os.environ.get('SHWS_PIGLIT') == '1':
        result = 'pass' if status == 0 else 'fail'
        print('PIGLIT: ' + json.dumps({'result': result}), flush=True)
    return status


sys.exit(piglit_result(main()))
