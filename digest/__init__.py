"""digest: collect articles, compose a personal digest per subscriber, deliver it by email."""
