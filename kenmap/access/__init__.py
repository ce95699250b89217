"""Access: demand cells, reach of hubs (membership or walking distance), gaps, coverage and
siting new hubs."""
