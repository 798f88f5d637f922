"""b4's own code (pinned 0.16.x) as an edge: `am` writes a series as `b4 am` does and
`attest` reads b4's attestation verdict, both from stored raw mail, with no network."""
