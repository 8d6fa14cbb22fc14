#!/bin/sh
# A server with a planted handle bug, posing as the reference: ovlnfsd decoding handles only
# through its in-memory map. The harness must catch it (harness_e2e_test).
exec "$OVL_REAL_OVLNFSD" --no-index "$@"
