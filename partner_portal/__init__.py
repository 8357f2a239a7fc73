"""The distributors' portal: tiers, documents, training, pickups, rebates, inquiries."""
