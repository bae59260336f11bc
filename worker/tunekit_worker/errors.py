"""The one error type of the worker.

Every failure the supervisor should show to a user is a `WorkerError` with a stable `code` (mirrored by the
TypeScript side), a `message` saying what happened and the offending value, and a `fix` saying what to do.
The protocol server turns it into `{"event":"error","code":…,"message":…,"fix":…}`.
"""


class WorkerError(Exception):
    def __init__(self, code: str, message: str, fix: str = ""):
        super().__init__(f"{code}: {message}" + (f" (fix: {fix})" if fix else ""))
        self.code = code
        self.message = message
        self.fix = fix

    def to_event(self) -> dict:
        """The protocol's error event body (without the request id)."""
        return {"event": "error", "code": self.code, "message": self.message, "fix": self.fix}
