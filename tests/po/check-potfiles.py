#!/usr/bin/env python3
"""Checks that everything the user reads is marked for translation.

  check-potfiles.py SOURCE_DIR
  check-potfiles.py --pot OUTPUT SOURCE_DIR   (only writes the template,
                                                as `meson compile natter-pot`)

1. Every file listed in po/POTFILES.in exists, and every file of the app
   (app/**/*.c, app/**/*.ui) and of data/ (the desktop file, the metainfo,
   the GSettings schema) from which xgettext extracts a string is listed.
2. xgettext over po/POTFILES.in, with the options po/meson.build's
   `preset: 'glib'` uses and its checks (a Unicode ellipsis and quotes, no
   space before an ellipsis), says nothing: any warning fails.
3. In the .ui files, every property or attribute that users read (label,
   title, tooltip-text, placeholder-text, subtitle, description, text,
   heading, body...) and every <item> holding letters is
   translatable="yes", unless an XML comment right before it says why not.
4. In the .c files, a string literal with letters given to a function that
   shows text (gtk_label_set_label, adw_toast_new, adw_message_dialog_new,
   g_notification_new, a "title" or "label" property of g_object_new...)
   is inside _(), N_(), C_() or g_dngettext(), unless a comment on its line
   or the line before says it is not translated ("not translated").
"""
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

# As i18n.gettext(preset: 'glib') (meson's mesonbuild/modules/i18n.py).
XGETTEXT_ARGS = [
    '--from-code=UTF-8', '--add-comments',
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3',
    '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format',
    '--flag=NC_:2:pass-c-format', '--flag=g_dngettext:2:pass-c-format',
    '--flag=g_strdup_printf:1:c-format', '--flag=g_string_printf:2:c-format',
    '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format',
    '--flag=g_log:3:c-format', '--flag=g_print:1:c-format',
    '--flag=g_printerr:1:c-format', '--flag=g_printf:1:c-format',
    '--flag=g_fprintf:2:c-format', '--flag=g_sprintf:2:c-format',
    '--flag=g_snprintf:3:c-format',
]
CHECKS = ['--check=ellipsis-unicode', '--check=quote-unicode',
          '--check=space-ellipsis']

UI_NAMES = {'label', 'title', 'tooltip-text', 'tooltip-markup',
            'placeholder-text', 'subtitle', 'description', 'text', 'heading',
            'body', 'button-label', 'comments', 'copyright', 'caption'}

# Function -> indices (0-based) of the arguments users read; 'pairs:N'
# means every second argument from N on (adw_message_dialog_add_responses).
C_CALLS = {
    'gtk_label_set_text': [1], 'gtk_label_set_label': [1],
    'gtk_label_set_markup': [1], 'gtk_label_new': [0],
    'gtk_label_new_with_mnemonic': [0],
    'gtk_button_set_label': [1], 'gtk_button_new_with_label': [0],
    'gtk_button_new_with_mnemonic': [0],
    'gtk_check_button_set_label': [1], 'gtk_menu_button_set_label': [1],
    'gtk_widget_set_tooltip_text': [1], 'gtk_widget_set_tooltip_markup': [1],
    'gtk_window_set_title': [1], 'gtk_entry_set_placeholder_text': [1],
    'gtk_text_set_placeholder_text': [1], 'gtk_string_list_append': [1],
    'adw_window_title_set_title': [1], 'adw_window_title_set_subtitle': [1],
    'adw_window_title_new': [0, 1],
    'adw_preferences_row_set_title': [1], 'adw_action_row_set_subtitle': [1],
    'adw_expander_row_set_subtitle': [1],
    'adw_preferences_group_set_title': [1],
    'adw_preferences_group_set_description': [1],
    'adw_preferences_page_set_title': [1],
    'adw_status_page_set_title': [1], 'adw_status_page_set_description': [1],
    'adw_toast_new': [0], 'adw_toast_new_format': [0],
    'adw_toast_set_title': [1], 'adw_toast_set_button_label': [1],
    'adw_message_dialog_new': [1, 2],
    'adw_message_dialog_set_heading': [1], 'adw_message_dialog_set_body': [1],
    'adw_message_dialog_format_heading': [1],
    'adw_message_dialog_format_body': [1],
    'adw_message_dialog_add_response': [2],
    'adw_message_dialog_add_responses': 'pairs:2',
    'adw_split_button_set_label': [1], 'adw_button_content_set_label': [1],
    'adw_view_stack_add_titled': [3], 'adw_view_stack_page_set_title': [1],
    'gtk_stack_add_titled': [3],
    'g_notification_new': [0], 'g_notification_set_title': [1],
    'g_notification_set_body': [1], 'g_notification_add_button': [1],
    'g_notification_add_button_with_target': [1],
    'g_menu_append': [1], 'g_menu_prepend': [1], 'g_menu_insert': [2],
    'g_menu_item_new': [0], 'g_menu_item_set_label': [1],
    'g_printerr': [0],
}
# Property lists (name, value, name, value, ..., NULL) from this argument.
C_PROPERTY_CALLS = {'g_object_new': 1, 'g_object_set': 1, 'gtk_widget_new': 1,
                    'adw_show_about_window': 1}
C_PROPERTIES = UI_NAMES | {'application-name', 'developer-name',
                           'translator-credits', 'release-notes'}
MARKERS = re.compile(r'\b(?:_|N_|C_|NC_|g_dngettext|g_dcgettext|g_dpgettext2|'
                     r'ngettext|gettext|dgettext|dngettext)\s*\(')
NOT_TRANSLATED = re.compile(r'not translat|untranslat|no translation', re.I)
FORMAT = re.compile(r'%(?:\d+\$)?[-+ 0#\']*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t|L|'
                    r'G_G?[A-Z0-9_]+)?[a-zA-Z%]')
LETTER = re.compile(r'[^\W\d_]')

failures = []


def fail(msg):
    failures.append(msg)


def potfiles(source_dir):
    names = []
    with open(os.path.join(source_dir, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                names.append(line)
    return names


def xgettext(source_dir, files, extra=()):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'natter.pot')
        proc = subprocess.run(['xgettext', '--package-name=natter',
                               '--directory=' + source_dir, '--output=' + out,
                               *XGETTEXT_ARGS, *extra, *files],
                              capture_output=True, text=True)
        text = ''
        if os.path.exists(out):
            with open(out, encoding='utf-8') as f:
                text = f.read()
        return proc.returncode, proc.stderr, text


def candidates(source_dir):
    found = []
    for top in ('app',):
        for root, dirs, files in os.walk(os.path.join(source_dir, top)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(('.c', '.ui')):
                    found.append(os.path.relpath(os.path.join(root, name), source_dir))
    data = os.path.join(source_dir, 'data')
    for name in sorted(os.listdir(data)):
        if name.endswith(('.desktop.in', '.metainfo.xml.in', '.gschema.xml')):
            found.append(os.path.join('data', name))
    return found


def check_listed(source_dir, listed):
    for name in listed:
        if not os.path.isfile(os.path.join(source_dir, name)):
            fail(f'po/POTFILES.in: {name} does not exist')
    for name in candidates(source_dir):
        if name in listed:
            continue
        rc, err, pot = xgettext(source_dir, [name])
        if rc != 0:
            fail(f'{name}: xgettext failed: {err.strip()}')
        elif 'msgid "' in pot.replace('msgid ""\nmsgstr ""', '', 1):
            fail(f'{name}: has translatable strings but is not in po/POTFILES.in')


def check_xgettext_warnings(source_dir, listed):
    rc, err, _ = xgettext(source_dir, listed, CHECKS)
    # xgettext says where it writes and which ITS rules it loads on stderr
    # only when something is wrong; every line is a finding.
    lines = [l for l in err.splitlines() if l.strip()]
    for l in lines:
        fail('xgettext: ' + l)
    if rc != 0 and not lines:
        fail(f'xgettext failed ({rc})')


def check_ui(source_dir, path):
    full = os.path.join(source_dir, path)
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    try:
        root = ET.parse(full, parser=parser).getroot()
    except ET.ParseError as e:
        fail(f'{path}: {e}')
        return
    # Line numbers, found again in the text: the n-th <property name="x">.
    with open(full, encoding='utf-8') as f:
        source = f.read()

    def report(elem, what):
        text = (elem.text or '').strip()
        pattern = re.escape(text[:40])
        m = re.search(r'>\s*' + pattern, source)
        line = source.count('\n', 0, m.start()) + 1 if m else '?'
        fail(f'{path}:{line}: {what} "{text[:60]}" is not translatable="yes" '
             f'(mark it, or say why not in a comment right before it)')

    def walk(parent):
        previous = None
        for child in list(parent):
            if child.tag is ET.Comment:
                previous = child
                continue
            text = (child.text or '').strip()
            if text and LETTER.search(text) and (
                    (child.tag in ('property', 'attribute') and child.get('name') in UI_NAMES)
                    or child.tag == 'item'):
                if child.get('translatable') not in ('yes', 'true', '1'):
                    excused = previous is not None and child.get('translatable') in ('no', 'false', '0')
                    if not excused:
                        report(child, f'<{child.tag} name="{child.get("name", "")}">')
            previous = None
            walk(child)
    walk(root)


def strip_c(source):
    """The source with comments blanked (newlines kept) and the line
    numbers whose comment (or the line before's) says "not translated"."""
    out = []
    excused = set()
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if source.startswith('/*', i) or source.startswith('//', i):
            end = source.find('*/', i + 2) + 2 if c == '/' and source[i + 1] == '*' else source.find('\n', i)
            if end < 2 or end == -1:
                end = n
            comment = source[i:end]
            if NOT_TRANSLATED.search(comment):
                last = source.count('\n', 0, end) + 1
                excused.update({last, last + 1})
            out.append(re.sub(r'[^\n]', ' ', comment))
            i = end
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and source[j] != c:
                j += 2 if source[j] == '\\' else 1
            out.append(source[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out), excused


def split_args(text, start):
    """Arguments of the call whose '(' is at text[start]: (start, end) spans."""
    depth, i, arg_start, args = 0, start, start + 1, []
    while i < len(text):
        c = text[i]
        if c in '"\'':
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            i = j + 1
            continue
        if c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
            if depth == 0:
                args.append((arg_start, i))
                return args
        elif c == ',' and depth == 1:
            args.append((arg_start, i))
            arg_start = i + 1
        i += 1
    return args


def bare_literals(text, span):
    """String literals in text[span] that no translation macro wraps."""
    a, b = span
    arg = text[a:b]
    wrapped = []
    for m in MARKERS.finditer(arg):
        inner = split_args(arg, m.end() - 1)
        if inner:
            wrapped.append((m.start(), inner[-1][1]))
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"', arg):
        if any(s <= m.start() < e for s, e in wrapped):
            continue
        yield a + m.start(), m.group(0)


def shows_text(literal):
    body = FORMAT.sub('', literal[1:-1].replace('\\n', ' ').replace('\\t', ' '))
    return LETTER.search(body) is not None


def check_c(source_dir, path):
    with open(os.path.join(source_dir, path), encoding='utf-8') as f:
        text, excused = strip_c(f.read())

    def flag(pos, literal, where):
        line = text.count('\n', 0, pos) + 1
        if line in excused:
            return
        fail(f'{path}:{line}: {literal} given to {where} is not marked for translation '
             f'(wrap it in _(), or say "not translated" and why in a comment)')

    names = '|'.join(sorted(list(C_CALLS) + list(C_PROPERTY_CALLS), key=len, reverse=True))
    for m in re.finditer(r'\b(' + names + r')\s*\(', text):
        func = m.group(1)
        args = split_args(text, m.end() - 1)
        if func in C_PROPERTY_CALLS:
            for k in range(C_PROPERTY_CALLS[func], len(args) - 1):
                name = text[args[k][0]:args[k][1]].strip()
                if name.startswith('"') and name.strip('"') in C_PROPERTIES:
                    for pos, lit in bare_literals(text, args[k + 1]):
                        if shows_text(lit):
                            flag(pos, lit, f'{func} ({name})')
            continue
        spec = C_CALLS[func]
        indices = range(int(spec.split(':')[1]), len(args), 2) if isinstance(spec, str) else spec
        for k in indices:
            if k < len(args):
                for pos, lit in bare_literals(text, args[k]):
                    if shows_text(lit):
                        flag(pos, lit, func)


def write_pot(source_dir, output):
    proc = subprocess.run(['xgettext', '--package-name=natter',
                           '--directory=' + source_dir, '--output=' + output,
                           '--files-from=' + os.path.join(source_dir, 'po', 'POTFILES.in'),
                           *XGETTEXT_ARGS])
    return proc.returncode


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == '--pot':
        return write_pot(os.path.abspath(args[2]), args[1])
    source_dir = os.path.abspath(args[0] if args else '.')
    listed = potfiles(source_dir)
    check_listed(source_dir, listed)
    check_xgettext_warnings(source_dir, listed)
    for name in candidates(source_dir):
        if name.startswith('app/') and name.endswith('.ui'):
            check_ui(source_dir, name)
        elif name.startswith('app/') and name.endswith('.c'):
            check_c(source_dir, name)
    for f in failures:
        print(f)
    if failures:
        print(f'{len(failures)} problem(s) with what is marked for translation')
        return 1
    print(f'{len(listed)} files in po/POTFILES.in, all marked')
    return 0


if __name__ == '__main__':
    sys.exit(main())
