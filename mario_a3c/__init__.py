"""mario-a3c: A3C (and A2C) for Super Mario Bros, Atari and vector-state Gymnasium envs."""
