"""stabmon command-line front end. The only package allowed to import every other one."""
