"""The module's original code, reproduced with its defects so notebooks and benchmarks can show
what goes wrong. Do not use in production.
"""
