"""Several search machines on one: the development cluster (``scripts/cluster``) and the health
checker that keeps nginx's upstream to the ready replicas (shipped in ``deploy/``)."""
