"""Allocation failures on demand: gdb attached to a running nginx worker
makes one of the module's functions return NULL, as it would when the
request pool is out of memory (which no request can provoke on purpose).

failing(worker_pid, function): a context manager; while it is open every
call of function in that worker returns NULL at once.  Skips the test when
gdb is missing or may not attach (ptrace refused).
"""

import contextlib
import shutil
import signal
import subprocess
import threading

import pytest

SCRIPT = """\
set confirm off
set pagination off
handle all nostop noprint pass
break {function}
commands
silent
return (void *) 0
continue
end
echo ARMED\\n
continue
delete
detach
echo DETACHED\\n
quit
"""


@contextlib.contextmanager
def failing(pid, function, workdir, timeout=30):
    gdb = shutil.which("gdb")
    if gdb is None:
        pytest.skip("gdb is not installed")
    script = workdir / ("gdb-%s.cmd" % function)
    script.write_text(SCRIPT.format(function=function))
    proc = subprocess.Popen([gdb, "-q", "-nx", "-batch", "-p", str(pid),
                             "-x", str(script)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    armed = threading.Event()
    output = []

    def read():
        for line in proc.stdout:
            output.append(line)
            if line.strip() == "ARMED":
                armed.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not armed.wait(timeout):
            if proc.poll() is None:
                proc.kill()
            text = "".join(output)
            if "ptrace" in text or "Operation not permitted" in text:
                pytest.skip("gdb may not attach here: " + text[-300:])
            raise AssertionError("gdb did not arm:\n" + text)
        yield
    finally:
        if proc.poll() is None:
            # SIGINT stops the worker and ends the script's "continue": the
            # breakpoint goes and gdb detaches, leaving the worker as it was
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(timeout=5)
    assert "DETACHED" in "".join(output), "".join(output)
