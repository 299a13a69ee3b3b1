"""Use cases.  Plain functions over models and primitives (never ``request``) that own commits."""
