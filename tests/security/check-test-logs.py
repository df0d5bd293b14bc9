#!/usr/bin/env python3
"""Scans the logs of a whole test run for secrets (docs/security.md, "Logs").

    check-test-logs.py SOURCE_DIR TESTLOG...   # meson-logs/testlog.txt
    check-test-logs.py --self-test SOURCE_DIR

Every natterd a test starts writes its log to the test's stderr (or, under
natter_test_add, to the child's stderr that GLib repeats as
'# child process (...) stderr: "..."' when it fails), and the app's core
logs there too: meson keeps all of it in meson-logs/testlog.txt, which
build-aux/test.sh hands to this script after each build's run.

Nothing in a log line may hold:
  - the test suite's password (NATTER_TEST_PASSWORD, tests/harness), which
    thousands of registrations and logins send;
  - a token: 43 characters of unpadded base64url, as natterd makes them
    (32 random bytes), or anything shaped like one;
  - an argon2id hash.
A test's own notes (TAP comment lines, '# ...') are the test speaking, not
a log, and are skipped; the child-process lines are not.

Exit status 0: clean; 1: a secret was found (each printed, with its test);
2: usage.
"""
import re
import sys

TOKEN = re.compile(r'(?<![A-Za-z0-9_+/-])[A-Za-z0-9_+/-]{43}(?![A-Za-z0-9_+/=-])')
ARGON2 = re.compile(r'\$argon2(id|i|d)\$')


def test_password(source_dir):
    path = f'{source_dir}/tests/harness/natter-test-client.h'
    with open(path, encoding='utf-8') as f:
        m = re.search(r'#define NATTER_TEST_PASSWORD "([^"]+)"', f.read())
    if not m:
        sys.exit(f'check-test-logs: no NATTER_TEST_PASSWORD in {path}')
    return m.group(1)


def looks_like_token(word):
    # Random base64 of 32 bytes has upper and lower case letters and a
    # digit (all but a vanishing fraction); a word, a path or a hex digest
    # of this length does not.
    return (any(c.isupper() for c in word) and any(c.islower() for c in word)
            and any(c.isdigit() for c in word))


def scan(lines, password):
    """Yields (test, line number, what, line) for each secret found."""
    test = '(before the first test)'
    for number, line in enumerate(lines, 1):
        if line.startswith('test:'):
            test = line[len('test:'):].strip()
            continue
        if line.startswith('# ') and not line.startswith('# child process'):
            continue
        if line.startswith(('Inherited environment:', 'command:')):
            continue
        if password in line:
            yield test, number, 'the test password', line
        if ARGON2.search(line):
            yield test, number, 'an argon2 hash', line
        for m in TOKEN.finditer(line):
            if looks_like_token(m.group(0)):
                yield test, number, 'a token', line


def check(paths, password):
    found = 0
    for path in paths:
        with open(path, encoding='utf-8', errors='replace') as f:
            lines = f.read().splitlines()
        for test, number, what, line in scan(lines, password):
            found += 1
            print(f'{path}:{number}: {test}: {what} in a log line: {line[:300]}')
    return found


def self_test(password):
    token = 'q8ZxV3mN0bT7rY1kLw2sD4fG6hJ9pE5cA-u_Ii0oOeU'
    clean = [
        'test:         natter:server / test-session',
        'natterd-tls-Message: 03:01:56.337: Created a self-signed TLS certificate in /tmp/natter-tests-KL0XZ3/x/tls-cert.pem',
        'natterd-server-Message: 03:04:24.327: TLS certificate SHA-256 fingerprint: EC:F0:CA:63:45:DD:5B:3F:14:BB',
        f'# case 0: {{"type":"register","username":"ab","password":"{password}"}}',
        f'# the token was {token}',
        'natterd-auth-Message: registered user alice',
        'a_very_long_identifier_name_without_digits_',
    ]
    dirty = [
        f'natterd-auth-DEBUG: 03:00:00.000: login with {password}',
        f'(natterd:42): natterd-auth-WARNING **: token {token} refused',
        f'# child process (/session/x [1]) stderr: "natterd-DEBUG: token={token}\\n"',
        'natter-client-DEBUG: hash $argon2id$v=19$m=19456,t=2,p=1$abc$def',
    ]
    bad = [what for _, _, what, _ in scan(clean, password)]
    if bad:
        sys.exit(f'check-test-logs: self-test: a clean log was flagged: {bad}')
    for line in dirty:
        if not list(scan([line], password)):
            sys.exit(f'check-test-logs: self-test: missed the secret in: {line}')
    print(f'check-test-logs: self-test passed ({len(clean)} clean lines, {len(dirty)} with secrets)')


def main(argv):
    if len(argv) == 3 and argv[1] == '--self-test':
        self_test(test_password(argv[2]))
        return 0
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    password = test_password(argv[1])
    found = check(argv[2:], password)
    if found:
        print(f'check-test-logs: {found} secret(s) in the test logs')
        return 1
    print(f'check-test-logs: no password, token or hash in {", ".join(argv[2:])}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
