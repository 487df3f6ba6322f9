"""SNS's own HTTP routes (server edge): the signing certificate and the recorded deliveries.

* ``GET /_shoal/sns/cert.pem``: the PEM certificate of the key that signs SNS
  messages, the SigningCertURL of every envelope.
* ``GET /_shoal/sns/deliveries``: deliveries kept for inspection (e-mail,
  SMS, Lambda, Firehose, platform endpoints; subscription confirmations
  included), oldest first, as JSON ``{"deliveries": [{"timestamp",
  "subscriptionArn", "protocol", "endpoint", "message"}, ...]}``.

The routes read the broker's SNS service when called; a broker without one
(a test fake) answers 404.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

from broker.sns.delivery import DELIVERY_PREFIX
from broker.sns.signing import CERT_PATH
from protocol.wire import Reply
from storage.records import unpack_delivery
from storage.store import Db

DELIVERIES_PATH = "/_shoal/sns/deliveries"
_NOT_FOUND = Reply(404, [("Content-Type", "text/plain; charset=utf-8")], b"Not Found\n")


def sns_routes(broker: object) -> dict[str, Callable[[], Reply]]:
    """The routes, bound to ``broker`` (a :class:`broker.core.Broker`)."""

    def certificate() -> Reply:
        sns = getattr(broker, "sns", None)
        if sns is None or sns.rt.signer is None:
            return _NOT_FOUND
        return Reply(200, [("Content-Type", "application/x-pem-file")], sns.rt.signer.certificate_pem)

    def deliveries() -> Reply:
        sns = getattr(broker, "sns", None)
        if sns is None:
            return _NOT_FOUND
        found = [unpack_delivery(raw) for _, raw in sns.rt.store.scan(Db.META, DELIVERY_PREFIX)]
        body = {
            "deliveries": [
                {
                    "timestamp": record.delivered_ms,
                    "subscriptionArn": record.subscription_arn,
                    "protocol": record.protocol,
                    "endpoint": record.endpoint,
                    "message": record.message,
                }
                for record in found
            ]
        }
        return Reply(200, [("Content-Type", "application/json")], orjson.dumps(body))

    return {CERT_PATH: certificate, DELIVERIES_PATH: deliveries}
