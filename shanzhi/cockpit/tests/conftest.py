from shanzhi.cases.tests.conftest import loop  # noqa: F401  (the closed-loop county fixture)
