"""How a lab job ends other than with its run stored."""
from __future__ import annotations

from edgebench.errors import EdgebenchError


class JobFailed(EdgebenchError):
    """The device could not do the job (gone, or it refused); `lab retry SESSION --failed` queues it again."""


class StopRequested(EdgebenchError):
    """The worker is stopping (or the job was cancelled): the job's run in flight was not stored."""
