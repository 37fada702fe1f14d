"""What a device's TLS certificate says, as observation fields: subject and issuer in RFC 4514
form (the form recog's `x509_subjects.xml` uses: `CN=www.hikvision.com,OU=DVRNVR,O=HIKVISION,...`),
whether it is self-signed, its validity and SHA-256. Pure; a certificate that cannot be parsed
gives only its hash.
"""

from __future__ import annotations

import hashlib

MAX_VALUE = 1024


def cert_fields(der: bytes) -> list[tuple[str, str]]:
    fields = [("cert_sha256", hashlib.sha256(der).hexdigest())]
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        fields += [
            ("cert_subject", subject[:MAX_VALUE]),
            ("cert_issuer", issuer[:MAX_VALUE]),
            ("cert_self_signed", "yes" if subject == issuer else "no"),
            ("cert_not_before", cert.not_valid_before_utc.date().isoformat()),
            ("cert_not_after", cert.not_valid_after_utc.date().isoformat()),
            ("cert_serial", format(cert.serial_number, "x")[:64]),
        ]
        try:
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            dns = names.value.get_values_for_type(x509.DNSName)
            if dns:
                fields.append(("cert_san", ",".join(dns)[:MAX_VALUE]))
        except (x509.ExtensionNotFound, ValueError):
            pass
    except Exception as exc:  # hostile DER: anything the parser throws is "unparseable"
        fields.append(("cert_error", f"{type(exc).__name__}"[:100]))
    return fields
