"""Check SigV4 over the form body the way AWS does, for clients that write spaces as %20 -- test-only.

AWS verifies a request's signature over the bytes the client sent. moto 5.2.5, when it enforces
IAM (`POST /moto-api/reset-auth`), rebuilds a form-encoded (Query protocol) body from the
parameters it parsed, with Python's `urlencode`, which writes a space as `+`. The AWS SDK for
Rust writes it as `%20`, so any call with a space in a parameter (a tag value such as mcpctl's
cutover record) fails with SignatureDoesNotMatch (HTTP 403) although AWS would accept it. Put this
directory on moto_server's PYTHONPATH (`mcpctl_testkit::moto_sigv4_form_env`) and a signature
that does not match moto's rebuilt body is checked again over the body rebuilt with `%20`; every
other check (the access key, the action against the user's policies) is moto's own.
"""

from urllib.parse import quote, urlencode

try:
    from moto.iam import access_control as _ac

    _original_check = _ac.IAMRequestBase.check_signature
    _original_create = _ac.IAMRequestBase._create_aws_request

    def _create_with_percent20(self):
        request = _original_create(self)
        if not self._body and isinstance(self._data, dict):
            request.data = urlencode(self._data, doseq=True, quote_via=quote, safe="-_.~")
        return request

    def _check_signature(self):
        try:
            return _original_check(self)
        except Exception:
            if self._body or not isinstance(self._data, dict):
                raise
            original = self._get_string_between("Signature=", ",", self._headers["Authorization"])
            self._create_aws_request = lambda: _create_with_percent20(self)
            try:
                if self._calculate_signature() != original:
                    raise
            finally:
                del self._create_aws_request

    _ac.IAMRequestBase.check_signature = _check_signature
except Exception:  # pragma: no cover - moto missing or changed: checks stay moto's
    pass
