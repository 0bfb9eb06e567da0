"""Write-back to Odoo through a transactional outbox: queued with the change, drained in order."""
