from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, as login throttling counts it.

    With no proxy it is REMOTE_ADDR. Behind N trusted proxies that each append the address
    they saw to X-Forwarded-For, it is the Nth entry from the right: anything further left
    was written by the client and may be forged.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [part.strip() for part in header.split(",") if part.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")
