"""Parameters: a pricing flow driven entirely by its parameters.

Parameters are passed to tasks positionally, by keyword, under other names, inside
expressions and through defaults; one parameter is only used by the flow's return value.
"""

from prefect import flow, get_run_logger, task


@task
def base_price(sku: str, currency: str = "EUR") -> float:
    prices = {"apple": 1.25, "pear": 2.0}
    rate = {"EUR": 1.0, "USD": 1.1}[currency]
    return round(prices[sku] * rate, 4)


@task
def apply_discount(price: float, percent: float) -> float:
    return round(price * (1 - percent / 100), 4)


@task(name="add-tax", timeout_seconds=10)
def add_tax(net: float, rate: float = 0.19) -> float:
    return round(net * (1 + rate), 4)


@task
def quote(gross: float, quantity: int) -> float:
    return round(gross * quantity, 2)


@flow(name="pricing")
def pricing(
    sku: str = "apple",
    quantity: int = 3,
    discount: float = 10.0,
    currency: str = "EUR",
    label: str = "quote",
) -> dict:
    logger = get_run_logger()
    price = base_price(sku, currency=currency)
    net = apply_discount(price, percent=discount)
    gross = add_tax(net)
    total = quote(gross, quantity)
    logger.info("%s for %d x %s: %s %s", label, quantity, sku, total, currency)
    return {"label": label, "total": total, "currency": currency}


if __name__ == "__main__":
    print(pricing(sku="pear", quantity=2))
