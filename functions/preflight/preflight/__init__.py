"""CORS preflight: the API's `OPTIONS` answers, for every origin the shop's web clients run on."""
