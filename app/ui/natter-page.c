/* natter-page.c: the "narrow" property the content pages share, and the
 * search entry of those that have one.
 *
 * Abstract: only its subclasses (NatterConversationView, NatterContactsPage,
 * NatterSearchPage) are made. It lays its child out with a GtkBinLayout.
 */
#define G_LOG_DOMAIN "natter-page"

#include "config.h"

#include "natter-page.h"

typedef struct
{
  gboolean     narrow;
  GtkEditable *search_entry; /* weak: the subclass' template child */
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

/* For a page with a search entry (@entry, a child of the page), which
 * natter_page_focus_search() and natter_page_clear_search() act on. */
void
natter_page_set_search_entry (NatterPage *self,
                              GtkWidget  *entry)
{
  NatterPagePrivate *priv = natter_page_get_instance_private (self);

  g_return_if_fail (NATTER_IS_PAGE (self));
  g_return_if_fail (GTK_IS_EDITABLE (entry));
  g_set_weak_pointer (&priv->search_entry, GTK_EDITABLE (entry));
}

/* A page with a search is opened to search: typing goes there. */
void
natter_page_focus_search (NatterPage *self)
{
  NatterPagePrivate *priv = natter_page_get_instance_private (self);

  g_return_if_fail (NATTER_IS_PAGE (self));
  if (priv->search_entry != NULL)
    gtk_widget_grab_focus (GTK_WIDGET (priv->search_entry));
}

/* On signing out: the next account, maybe someone else's, must not see
 * the last one's search, its query nor its results. Emptying the entry
 * drops the results (each page's search-changed handler). */
void
natter_page_clear_search (NatterPage *self)
{
  NatterPagePrivate *priv = natter_page_get_instance_private (self);

  g_return_if_fail (NATTER_IS_PAGE (self));
  if (priv->search_entry != NULL)
    gtk_editable_set_text (priv->search_entry, "");
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
natter_page_dispose (GObject *object)
{
  NatterPagePrivate *priv = natter_page_get_instance_private (NATTER_PAGE (object));

  g_clear_weak_pointer (&priv->search_entry);

  G_OBJECT_CLASS (natter_page_parent_class)->dispose (object);
}

static void
natter_page_class_init (NatterPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_page_dispose;
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
