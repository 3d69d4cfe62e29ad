//! `harness merge`: the shards' folders become one run.
