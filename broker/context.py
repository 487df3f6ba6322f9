"""Who is asking, and where: the context every broker call receives.

The protocol layer builds it from the request (Host header, SigV4 credential
scope, access key id); the broker reads it to scope resources to an account and
region and to mint queue URLs that use the host the client used.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"


@dataclass(slots=True)
class RequestContext:
    """The caller's account and region, the host:port it addressed, and the request id.

    Built once per request, so not ``frozen`` (that costs several times more to
    build); nothing changes it after it is built."""

    account_id: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    host: str = "localhost:4566"
    request_id: str = ""
    scheme: str = "http"

    @property
    def base_url(self) -> str:
        """``http://host:port`` as the client addressed the server."""
        return f"{self.scheme}://{self.host}"
