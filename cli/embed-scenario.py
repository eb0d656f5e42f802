#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Turn a scenario file into a C source holding its text, so that `epcg run`
# without a file can run it: embed-scenario.py INPUT OUTPUT SYMBOL.
import sys

src, out, sym = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, 'rb').read()
lines = ['/* Generated from %s by embed-scenario.py; do not edit. */' %
         src.replace('\\', '/').rsplit('/', 1)[-1],
         '#include <stddef.h>', '',
         'const char %s[] =' % sym]
for chunk in data.decode('utf-8').splitlines(keepends=True):
    esc = chunk.replace('\\', '\\\\').replace('"', '\\"')
    esc = esc.replace('\n', '\\n').replace('\r', '\\r').replace('\t', '\\t')
    lines.append('\t"%s"' % esc)
if not data:
    lines.append('\t""')
lines[-1] += ';'
lines.append('const size_t %s_len = sizeof(%s) - 1;' % (sym, sym))
open(out, 'w').write('\n'.join(lines) + '\n')
