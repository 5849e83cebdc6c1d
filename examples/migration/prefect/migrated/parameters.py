"""Parameters: a pricing flow driven entirely by its parameters.

Parameters are passed to tasks positionally, by keyword, under other names, inside
expressions and through defaults; one parameter is only used by the flow's return value.
"""

import logging

from graflow_core import task, workflow


@task
def base_price(sku: str, currency: str = "EUR") -> float:
    prices = {"apple": 1.25, "pear": 2.0}
    rate = {"EUR": 1.0, "USD": 1.1}[currency]
    return round(prices[sku] * rate, 4)


@task
def apply_discount(price: float, percent: float) -> float:
    return round(price * (1 - percent / 100), 4)


@task(id="add-tax", timeout=10)
def add_tax(net: float, rate: float = 0.19) -> float:
    return round(net * (1 + rate), 4)


@task
def quote(gross: float, quantity: int) -> float:
    return round(gross * quantity, 2)


def build_pricing():
    """Build the graflow workflow of the Prefect flow ``pricing``.

    Parameters (channel keys): sku, quantity, discount, currency, label.
    """
    logger = logging.getLogger(__name__)
    with workflow("pricing") as wf:
        base_price_task = base_price(task_id="base_price")

        @task(id="apply_discount", inject_context=True)
        def apply_discount_task(ctx, discount):
            price = ctx.get_result("base_price")
            return apply_discount.func(price, percent=discount)

        @task(id="add-tax", timeout=10, inject_context=True)
        def add_tax_task(ctx):
            net = ctx.get_result("apply_discount")
            return add_tax.func(net)

        @task(id="quote", inject_context=True)
        def quote_task(ctx, quantity):
            gross = ctx.get_result("add-tax")
            return quote.func(gross, quantity)

        @task(id="pricing_step", inject_context=True)
        def pricing_step_task(ctx, currency, label, quantity, sku):
            total = ctx.get_result("quote")
            logger.info("%s for %d x %s: %s %s", label, quantity, sku, total, currency)

        base_price_task >> apply_discount_task >> add_tax_task >> quote_task >> pricing_step_task
    return wf


def pricing(
    sku: str = "apple",
    quantity: int = 3,
    discount: float = 10.0,
    currency: str = "EUR",
    label: str = "quote",
) -> dict:
    """Run the workflow ``pricing`` and return the flow's result."""
    _, ctx = build_pricing().execute(
        ret_context=True,
        initial_channel={
            "sku": sku,
            "quantity": quantity,
            "discount": discount,
            "currency": currency,
            "label": label,
        },
    )
    total = ctx.get_result("quote")
    return {"label": label, "total": total, "currency": currency}


if __name__ == "__main__":
    print(pricing(sku="pear", quantity=2))
