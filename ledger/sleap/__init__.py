"""sleap"""
