{#- One row per customer-care contact (CRM_CARE, 维系关怀). -#}
with

contacts as (
    select * from {{ ref('stg_crm__care_contacts') }}
),

final as (
    select
        contact_id,
        customer_id,
        contact_time,
        {{ local_date('contact_time') }} as contact_date,
        channel,
        campaign,
        outcome
    from contacts
)

select * from final
