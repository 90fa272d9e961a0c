"""Hazardous materials: operations that take secret key material out of tresor's protection.

Prefer :meth:`tresor.Vault.export_sealed`, which never shows the key. When the vault has an audit log
(``audit-logging = true``), :func:`export_private_key` writes an event naming the key before it returns
the key, and returns nothing if the event cannot be written.
"""

from tresor._tresor import PrivateKey, Vault, _hazmat_export_private_key

__all__ = ["export_private_key"]


def export_private_key(vault: Vault, fingerprint: str) -> PrivateKey:
    """The private key ``fingerprint`` of ``vault``, in clear (clear and envelope modes; a key in a KMS
    never leaves it: :class:`tresor.WrongMode`)."""
    return _hazmat_export_private_key(vault, fingerprint)
