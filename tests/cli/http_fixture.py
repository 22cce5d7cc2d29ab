"""A real HTTP server on 127.0.0.1 for health-check tests: answers a scripted list of
statuses (the last one repeats) and counts requests."""
import http.server
import threading


class ScriptedServer:
    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.requests = 0
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with lock:
                    index = min(outer.requests, len(outer.statuses) - 1)
                    outer.requests += 1
                status = outer.statuses[index]
                body = f"status {status}\n".encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/health"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def closed_port():
    """A loopback port with nothing listening on it."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
