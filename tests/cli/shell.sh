#!/bin/sh
# evctl shell: scripted (standard input not a terminal) it runs the
# command table line by line, reports errors and exits with the status of
# the last failure; through a pseudo-terminal (python3's pty module, with a
# fake API), TAB completes commands, options, values and station ids, and a
# live event is printed above the prompt without losing the line typed.
. "${top_srcdir:?}/tests/cli/lib.sh"
: "${EVCTL:?}"

# shell NAME WANT SCRIPT: runs the lines of SCRIPT through `evctl shell`.
shell() {
	printf '%s' "$3" >"$scratch/script"
	run "$1" "$2" sh -c '"$0" shell --no-events <"$1"' "$EVCTL" "$scratch/script"
}

shell "script" 0 'version
help
' && {
	contains "script runs commands" "$out" "evctl 0."
	contains "help lists commands" "$out" "  shell "
	contains "help tells about the shell" "$out" "'exit' or 'quit'"
}
shell "failure" 2 'frobnicate
version
' && {
	contains "failure reported" "$err" "evctl: unknown command 'frobnicate'"
	contains "later lines still run" "$out" "evctl 0."
}
printf '[2,"1","Heartbeat",{}]\n' >"$scratch/a frame.log"
shell "last failure wins" 4 "frobnicate
ocpp validate /nonexistent
ocpp validate '$scratch/a frame.log'
version
" && contains "last failure wins" "$err" "/nonexistent: No such file"
shell "quoting" 0 "# a comment, then a blank line

ocpp validate \"$scratch/a frame.log\" --json
help 'ocpp' validate # trailing comment
evctl version
" && {
	contains "double quotes keep blanks" "$out" '"valid":true,"type":"CALL"'
	contains "single quotes" "$out" "usage: evctl ocpp validate"
	contains "a leading evctl is dropped" "$out" "evctl 0."
}
shell "backslash" 0 "ocpp validate $(printf '%s' "$scratch/a frame.log" | sed 's/ /\\ /g') -q
" && ok "a backslash escapes a blank"
shell "unterminated quote" 2 'help "ocpp
version
' && {
	contains "unterminated quote" "$err" "evctl: shell: unterminated quote"
	contains "unterminated quote: goes on" "$out" "evctl 0."
}
shell "exit" 3 'version
exit 3
frobnicate
' && case $err in *frobnicate*) not_ok "nothing after exit" "$err" ;; *) ok "nothing after exit" ;; esac
shell "quit" 0 'frobnicate
quit 0
' && ok "quit N"
shell "exit with the last failure" 2 'frobnicate
exit
' && ok "exit without N: the last failure"
shell "bad exit" 2 'exit 300
' && contains "bad exit" "$err" "exit: takes at most one number from 0 to 255"
shell "nested" 2 'shell
' && contains "nested" "$err" "evctl: shell: already in the shell"
run "shell operand" 2 "$EVCTL" shell now && contains "shell operand" "$err" "unexpected argument 'now'"
run "empty input" 0 sh -c '"$0" shell </dev/null' "$EVCTL" && ok "empty input"

# A sim started and stopped from inside the shell: its daemon must not
# become the shell's child (nothing to reap, nothing left).
shell "sim in the shell" 0 "sim start --url ws://127.0.0.1:1/ocpp --id-pattern SH-1 --state-dir '$scratch/sim'
sim status --state-dir '$scratch/sim'
sim stop --state-dir '$scratch/sim'
" && {
	contains "sim started from the shell" "$out" "SH-1  not connected"
	contains "sim stopped from the shell" "$out" "stopped the sim"
}

# Completion, from the table (what `evctl __complete` and TAB share).
run "__complete subcommands" 0 "$EVCTL" __complete sim && contains "__complete subcommands" "$out" "plug"
run "__complete options" 0 "$EVCTL" __complete sim plug && contains "__complete options" "$out" "--max-power"
run "__complete values" 0 "$EVCTL" __complete sim fault --code && contains "__complete values" "$out" "GroundFailure"

# The terminal, through a pseudo-terminal.
if command -v python3 >/dev/null 2>&1; then
	cat >"$scratch/shell_pty.py" <<'EOF'
# Drives `evctl shell` through a pseudo-terminal, with a fake API (stations
# and an event stream). Prints "ok - ..." / "not ok - ..." lines.
import json, os, pty, re, select, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

evctl, home = sys.argv[1], sys.argv[2]
emit, stop = threading.Event(), threading.Event()
seen_auth = []

class Api(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.0'
    def log_message(self, *args): pass
    def do_GET(self):
        if self.path == '/api/v1/stations':
            body = json.dumps({'stations': [{'id': 'CP-042'}, {'id': 'CP-043'}]}).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == '/api/v1/events':
            seen_auth.append(self.headers.get('Authorization'))
            self.send_response(200)
            self.send_header('Content-Type', 'text/event-stream')
            self.end_headers()
            self.wfile.write(b': keep-alive\n\n')
            self.wfile.flush()
            emit.wait(30)
            self.wfile.write(b'event: status\ndata: {"station":"CP-042","connector":1,"status":"Charging",'
                             b'"error_code":"NoError","time":"2026-11-22T10:00:00Z"}\n\n')
            self.wfile.flush()
            stop.wait(30)
        else:
            self.send_error(404)

srv = ThreadingHTTPServer(('127.0.0.1', 0), Api)
srv.daemon_threads = True
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_address[1]

pid, fd = pty.fork()
if pid == 0:
    os.environ.update(HOME=home, XDG_STATE_HOME=home + '/state', TERM='xterm', NO_COLOR='1', INPUTRC='/dev/null')
    os.environ.pop('EVCTL_SERVER', None)
    os.environ.pop('EVCTL_TOKEN', None)
    os.execv(evctl, [evctl, 'shell', '--server', 'http://127.0.0.1:%d' % port, '--token', 'tok-123'])

screen = ''
failed = 0
escape = re.compile(r'\x1b\[([0-9;?]*)([A-Za-z])|\x1b[=>]')

def visible(raw):
    """What the terminal shows, as far as the line being edited goes:
    carriage return, backspace, cursor left/right and erase to the end of
    the line are followed; other escapes are dropped."""
    lines, col, i = [''], 0, 0
    raw = raw.replace('\r\n', '\n')
    while i < len(raw):
        m = escape.match(raw, i)
        if m:
            n = int(m.group(1)) if m.group(1) and m.group(1).isdigit() else 1
            if m.group(2) == 'C':
                col += n
            elif m.group(2) == 'D':
                col = max(0, col - n)
            elif m.group(2) == 'K':
                lines[-1] = lines[-1][:col]
            i = m.end()
            continue
        ch = raw[i]
        i += 1
        if ch == '\n':
            lines.append('')
            col = 0
        elif ch == '\r':
            col = 0
        elif ch == '\b':
            col = max(0, col - 1)
        elif ch >= ' ':
            line = lines[-1].ljust(col)
            lines[-1] = line[:col] + ch + line[col + 1:]
            col += 1
    return '\n'.join(lines)

def read_until(what, timeout=10, count=1):
    global screen
    deadline = time.time() + timeout
    while visible(screen).count(what) < count:
        left = deadline - time.time()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return False
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        screen += data.decode('utf-8', 'replace')
    return True

def read_tail(what, timeout=10):
    """Until the screen ends with what (the echo has caught up)."""
    global screen
    deadline = time.time() + timeout
    while not visible(screen).endswith(what):
        left = deadline - time.time()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return False
        screen += os.read(fd, 4096).decode('utf-8', 'replace')
    return True

def check(name, good):
    global failed
    if good:
        print('ok - ' + name)
    else:
        failed += 1
        print('not ok - %s: screen: %r' % (name, visible(screen)[-600:]))

def send(text):
    os.write(fd, text.encode())

check('tty: prompt', read_until('evctl> '))
send('vers\t')
check('tty: TAB completes a command', read_until('version'))
send('\r')
check('tty: the completed command runs', read_until('evctl 0.'))
send('ocpp validate --js\t')
check('tty: TAB completes an option', read_until('--json '))
send('--help\r')
check('tty: the completed option is used', read_until('usage: evctl ocpp validate'))
send('ocpp validate --ocpp 2.\t')
check('tty: TAB completes an option value', read_until('2.0.1'))
send('\x15')   # ^U: drop the line
send('sim plug CP-04\t\t')
check('tty: TAB offers station ids from the API', read_until('CP-043'))
send('\x15vers')
check('tty: a line is being typed', read_tail('evctl> vers'))
emit.set()
event = 'CP-042 connector 1 Charging'
check('tty: an event is printed', read_until(event))
check('tty: the event has a line of its own, above the prompt',
      read_until('\n2026-11-22T10:00:00Z ' + event + '\n'))
check('tty: the line being typed is drawn again below it', read_tail(event + '\nevctl> vers'))
send('ion\r')
check('tty: the line typed around the event runs', read_until('evctl 0.', count=2))
check('tty: the event stream sends the token', 'Bearer tok-123' in seen_auth)
send('exit\r')
_, status = os.waitpid(pid, 0)
check('tty: exit ends the shell with status 0', os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0)
stop.set()
try:
    history = open(home + '/state/evctl/history').read()
except OSError:
    history = ''
check('tty: history is kept', 'ocpp validate --json --help' in history)
srv.shutdown()
sys.exit(1 if failed else 0)
EOF
	mkdir -p "$scratch/home"
	timeout 120 python3 "$scratch/shell_pty.py" "$EVCTL" "$scratch/home" >"$scratch/pty.out" 2>&1
	status=$?
	while read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) line=${line#not ok - }; not_ok "${line%%: *}" "${line#*: }" ;;
		*) echo "# $line" ;;
		esac
	done <"$scratch/pty.out"
	[ "$status" -eq 0 ] && ok "tty: the driver finished" || not_ok "tty: the driver finished" "status $status"
else
	echo "# python3 not installed: the terminal (pty) test is skipped"
fi

finish
