"""HTTP handlers, one module per audience: participant (phone), projector, facilitator."""
