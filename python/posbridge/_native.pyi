"""The native module (Rust, PyO3). Private: use ``posbridge.hesabe``, ``posbridge.helcim`` and ``posbridge.sandbox``."""

from decimal import Decimal
from typing import Any, Awaitable, Dict, Iterable, Mapping, Optional, Tuple, Union, final

from typing_extensions import disjoint_base

__all__ = [
    "Codec",
    "HesabeClient",
    "Sandbox",
    "_reset_after_fork",
    "__version__",
    "HESABE_SANDBOX_URL",
    "HESABE_PRODUCTION_URL",
    "HELCIM_PRODUCTION_URL",
    "HelcimClient",
    "WebhookEvent",
    "CardTransactionEvent",
    "TerminalCancelEvent",
    "verify_webhook",
]

__version__: str
HESABE_SANDBOX_URL: str
HESABE_PRODUCTION_URL: str
HELCIM_PRODUCTION_URL: str

@disjoint_base
class Codec:
    def __new__(cls, secret_key: Union[str, bytes], iv: Union[str, bytes]) -> "Codec": ...
    def encrypt(self, text: str, block: int = 16) -> str: ...
    def decrypt(self, hex_text: Union[str, bytes]) -> str: ...

@final
class HesabeClient:
    def __new__(
        cls,
        *,
        merchant_code: str,
        access_code: str,
        secret_key: Union[str, bytes],
        iv: Union[str, bytes],
        username: str,
        password: str,
        base_url: str,
        timeout: float = 10.0,
        request_block: int = 16,
    ) -> "HesabeClient": ...
    def call(self, operation: str, params: str) -> str: ...
    def call_async(self, operation: str, params: str) -> Awaitable[str]: ...
    def wire(self, operation: str, params: str) -> Optional[Tuple[str, str, Optional[str]]]: ...
    @property
    def merchant_code(self) -> str: ...
    @property
    def base_url(self) -> str: ...

@final
class Sandbox:
    def __new__(
        cls,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token_ttl: float = 900.0,
        refresh_ttl: float = 7200.0,
        helcim_limits: Optional[Tuple[int, int, int]] = ...,
        helcim_retry_after: bool = False,
        helcim_idempotency_replay: bool = False,
        helcim_webhook_url: Optional[str] = None,
        helcim_retry_scale: float = 0.01,
        helcim_webhook_timeout: float = 5.0,
        helcim_transaction_delay: float = 0.0,
        helcim_duplicate_check: bool = False,
        helcim_fee_saver: float = 0.0,
        helcim_signature_rotation: bool = False,
        helcim_refund_declines: bool = False,
    ) -> "Sandbox": ...
    @staticmethod
    def helcim_tokens() -> Dict[str, str]: ...
    @property
    def port(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def hesabe_url(self) -> str: ...
    def hesabe_pay(self, transaction_id: str) -> str: ...
    def hesabe_decline(self, transaction_id: str) -> str: ...
    def hesabe_cancel(self, transaction_id: str) -> str: ...
    def hesabe_pay_invoice(self, token: str) -> str: ...
    def hesabe_set_refund_status(self, id: int, status: int) -> str: ...
    def hesabe_expire_tokens(self) -> None: ...
    @property
    def helcim_url(self) -> str: ...
    @property
    def helcim_webhook_url(self) -> Optional[str]: ...
    def set_helcim_webhook_url(self, url: Optional[str]) -> None: ...
    def helcim_complete(self, code: str, outcome: str = "approved", card_type: Optional[str] = None) -> str: ...
    def helcim_set_listening(self, code: str, listening: bool) -> str: ...
    def helcim_close_batch(self) -> int: ...
    def helcim_deliveries(self) -> str: ...
    def inject_fault(
        self,
        kind: str,
        *,
        path: Optional[str] = None,
        method: Optional[str] = None,
        times: int = 1,
        delay: Optional[float] = None,
    ) -> None: ...
    def clear_faults(self) -> None: ...
    def stats(self) -> str: ...
    def shutdown(self) -> None: ...

def _reset_after_fork() -> None: ...

@final
class HelcimClient:
    def __new__(
        cls, *, api_token: str, base_url: str, timeout: float = 10.0, currency: Optional[str] = None, rate_limit: bool = False
    ) -> "HelcimClient": ...
    def call(self, operation: str, params: str) -> str: ...
    def call_async(self, operation: str, params: str) -> Awaitable[str]: ...
    def wire(self, operation: str, params: str) -> Tuple[str, str, Optional[str], Optional[str]]: ...
    @property
    def base_url(self) -> str: ...
    @property
    def currency(self) -> Optional[str]: ...
    @property
    def rate_limit(self) -> bool: ...

@disjoint_base
class WebhookEvent:
    """A verified Helcim webhook (the base of the typed events; also any unknown ``type``)."""
    @property
    def type(self) -> str: ...
    @property
    def webhook_id(self) -> str: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def raw(self) -> Any: ...

@final
class CardTransactionEvent(WebhookEvent):
    @property
    def transaction_id(self) -> str: ...

@final
class TerminalCancelEvent(WebhookEvent):
    @property
    def device_code(self) -> Optional[str]: ...
    @property
    def currency(self) -> Optional[str]: ...
    @property
    def transaction_amount(self) -> Optional[Decimal]: ...
    @property
    def cancelled_at(self) -> Optional[str]: ...
    @property
    def invoice_number(self) -> Optional[str]: ...

def verify_webhook(
    headers: Union[Mapping[str, Any], Iterable[Tuple[Any, Any]]],
    body: Union[bytes, bytearray, str],
    verifier_token: Union[str, bytes],
    tolerance: float = 300.0,
    now: Optional[float] = None,
) -> WebhookEvent: ...
