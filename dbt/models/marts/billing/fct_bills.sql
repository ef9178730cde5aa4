{#- Monthly billing snapshot per city and product (BSS_BILL): billed amount, subscribers
    and lines in service; the denominators of FT_RATE, CP_RATE and BL_ERROR_RATE. -#}
with

bills as (
    select * from {{ ref('stg_bss__bills') }}
),

final as (
    select
        city_code,
        bill_month,
        to_date(bill_month, 'YYYYMM') as bill_month_start,
        product,
        billed_amount_fen,
        subscribers_in_service,
        lines_in_service,
        -- lines that can report a fault (FT_RATE): fixed lines and broadband accounts
        product in ('FIXED', 'BROADBAND') as is_fixed_network
    from bills
)

select * from final
