"""The distributors' portal: tiers, document library, training, pickups, rebate statements, inquiries."""
