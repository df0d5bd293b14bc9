/* natter-page.c: the "narrow" property the content pages share.
 *
 * Abstract: only its subclasses (NatterConversationView, NatterContactsPage,
 * NatterSearchPage) are made. It lays its child out with a GtkBinLayout.
 */
#define G_LOG_DOMAIN "natter-page"

#include "config.h"

#include "natter-page.h"

typedef struct
{
  gboolean narrow;
} NatterPagePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (NatterPage, natter_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_NARROW,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

gboolean
natter_page_get_narrow (NatterPage *self)
{
  NatterPagePrivate *priv = natter_page_get_instance_private (self);

  g_return_val_if_fail (NATTER_IS_PAGE (self), FALSE);
  return priv->narrow;
}

void
natter_page_set_narrow (NatterPage *self,
                        gboolean    narrow)
{
  NatterPagePrivate *priv = natter_page_get_instance_private (self);

  g_return_if_fail (NATTER_IS_PAGE (self));

  narrow = !!narrow;
  if (priv->narrow == narrow)
    return;
  priv->narrow = narrow;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NARROW]);
}

static void
natter_page_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  NatterPage *self = NATTER_PAGE (object);

  switch (prop_id)
    {
    case PROP_NARROW:
      g_value_set_boolean (value, natter_page_get_narrow (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_page_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  NatterPage *self = NATTER_PAGE (object);

  switch (prop_id)
    {
    case PROP_NARROW:
      natter_page_set_narrow (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_page_class_init (NatterPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = natter_page_get_property;
  object_class->set_property = natter_page_set_property;

  properties[PROP_NARROW] =
    g_param_spec_boolean ("narrow", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
natter_page_init (NatterPage *self)
{
}
